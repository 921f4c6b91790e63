//! News headlines from RSS 2.0 (`<item>` with `title`, `guid`/`link`, `pubDate` in RFC 2822)
//! and Atom (`<entry>` with `title`, `id`/`link href`, `published`/`updated` in RFC 3339).

use super::Headline;
use crate::model::time::parse_utc_ms;
use quick_xml::Reader;
use quick_xml::events::Event;

#[derive(Default)]
struct Item {
    title: String,
    id: String,
    link: String,
    date: String,
}

/// Parses an RSS or Atom document into headlines of `source`, received at `known_at`.
pub fn parse_feed(xml: &str, source: &str, known_at: i64) -> Result<Vec<Headline>, String> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut item: Option<Item> = None;
    let mut field: Option<String> = None;
    let mut seen_root = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "{source}: malformed XML at byte {}: {e}",
                reader.buffer_position()
            )
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().local_name().as_ref().to_ascii_lowercase();
                seen_root |= matches!(name.as_str(), "rss" | "feed" | "rdf");
                if name == "item" || name == "entry" {
                    item = Some(Item::default());
                } else if let Some(it) = item.as_mut() {
                    if name == "link"
                        && let Some(href) =
                            e.attributes().flatten().find(|a| a.key.as_ref() == "href")
                    {
                        it.link = href.value.to_string();
                    }
                    field = Some(name);
                }
            }
            Event::Text(t) => append(&mut item, &field, &t.xml10_content()),
            Event::CData(c) => append(&mut item, &field, &c.into_inner()),
            Event::GeneralRef(r) => {
                let text = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .ok()
                        .flatten()
                        .map(String::from)
                        .unwrap_or_default()
                } else {
                    match r.into_inner().as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    }
                    .to_string()
                };
                append(&mut item, &field, &text);
            }
            Event::End(e) => {
                let name = e.name().local_name().as_ref().to_ascii_lowercase();
                if (name == "item" || name == "entry")
                    && let Some(it) = item.take()
                {
                    let id = [&it.id, &it.link, &it.title]
                        .into_iter()
                        .find(|s| !s.trim().is_empty())
                        .cloned()
                        .unwrap_or_default();
                    let title = it.title.trim().to_string();
                    if !title.is_empty() {
                        out.push(Headline {
                            source: source.to_string(),
                            id: id.trim().to_string(),
                            title,
                            published_at: parse_date(&it.date),
                            known_at,
                        });
                    }
                }
                field = None;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(format!("{source}: neither an RSS nor an Atom document"));
    }
    Ok(out)
}

fn append(item: &mut Option<Item>, field: &Option<String>, text: &str) {
    let (Some(it), Some(field)) = (item.as_mut(), field.as_deref()) else {
        return;
    };
    let target = match field {
        "title" => &mut it.title,
        "guid" | "id" => &mut it.id,
        "link" => &mut it.link,
        "pubdate" | "published" | "updated" | "date" => &mut it.date,
        _ => return,
    };
    target.push_str(text);
}

/// RFC 3339 (`2003-12-13T18:30:02Z`, offsets allowed) or RFC 2822 (`Tue, 10 Jun 2003 04:00:00 GMT`).
pub(super) fn parse_date(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.as_bytes().first().is_some_and(u8::is_ascii_digit) && t.contains('-') && t.contains('T') {
        // RFC 3339: strip fractional seconds, apply the offset.
        let (main, offset_min) = split_offset(t);
        let main = main.split('.').next()?;
        return parse_utc_ms(main).map(|ms| ms - offset_min * 60_000);
    }
    let parts: Vec<&str> = t.split_whitespace().collect();
    let parts = if parts.first().is_some_and(|p| p.ends_with(',')) {
        &parts[1..]
    } else {
        &parts[..]
    };
    let [day, month, year, time, zone] = parts else {
        return None;
    };
    let month = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| month.to_ascii_lowercase().starts_with(m))?
        + 1;
    let ms = parse_utc_ms(&format!(
        "{year}-{month:02}-{:02}T{time}",
        day.parse::<u32>().ok()?
    ))?;
    let offset_min = match *zone {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        z if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => {
            let h: i64 = z[1..3].parse().ok()?;
            let m: i64 = z[3..5].parse().ok()?;
            (h * 60 + m) * if z.starts_with('-') { -1 } else { 1 }
        }
        _ => return None,
    };
    Some(ms - offset_min * 60_000)
}

/// Splits an RFC 3339 time into its local part and its offset in minutes.
fn split_offset(t: &str) -> (&str, i64) {
    if let Some(main) = t.strip_suffix('Z') {
        return (main, 0);
    }
    let tail = &t[t.len().saturating_sub(6)..];
    if tail.len() == 6
        && (tail.starts_with('+') || tail.starts_with('-'))
        && tail.as_bytes()[3] == b':'
    {
        let h: i64 = tail[1..3].parse().unwrap_or(0);
        let m: i64 = tail[4..6].parse().unwrap_or(0);
        let sign = if tail.starts_with('-') { -1 } else { 1 };
        return (&t[..t.len() - 6], sign * (h * 60 + m));
    }
    (t, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rss_items() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Markets</title>
            <item><title>Bitcoin &amp; ether rally</title><link>https://x/1</link><guid>a-1</guid><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item>
            <item><title><![CDATA[Fed holds <rates>]]></title><link>https://x/2</link><pubDate>Tue, 10 Jun 2003 06:00:00 +0200</pubDate></item>
            </channel></rss>"#;
        let h = parse_feed(rss, "wire", 99).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[0].title.as_str(), h[0].id.as_str()),
            ("Bitcoin & ether rally", "a-1")
        );
        assert_eq!(h[0].published_at, Some(1_055_217_600_000));
        assert_eq!(
            (h[1].title.as_str(), h[1].id.as_str()),
            ("Fed holds <rates>", "https://x/2")
        );
        assert_eq!(h[1].published_at, Some(1_055_217_600_000));
        assert!(h.iter().all(|x| x.known_at == 99));
    }

    #[test]
    fn parses_atom_entries_and_refuses_other_documents() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
            <entry><title type="text">ETF approved</title><link href="https://y/1"/><id>urn:1</id><updated>2003-12-13T18:30:02Z</updated></entry>
            <entry><title>Second</title><link href="https://y/2"/><published>2003-12-13T20:30:02.25+02:00</published></entry></feed>"#;
        let h = parse_feed(atom, "atom", 0).unwrap();
        assert_eq!(
            (h[0].title.as_str(), h[0].id.as_str()),
            ("ETF approved", "urn:1")
        );
        assert_eq!(h[0].published_at, Some(1_071_340_202_000));
        assert_eq!(
            (h[1].id.as_str(), h[1].published_at),
            ("https://y/2", Some(1_071_340_202_000))
        );
        assert!(
            parse_feed("<html><body/></html>", "x", 0)
                .unwrap_err()
                .contains("neither")
        );
        assert!(
            parse_feed("<rss><channel><item><title>x</item></rss>", "x", 0)
                .unwrap_err()
                .contains("malformed")
        );
    }
}
