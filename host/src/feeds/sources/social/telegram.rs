//! Telegram's Bot API `getUpdates`: `{"ok": true, "result": [Update, ...]}`. An update carries a
//! channel's post (`channel_post`) or a group's message (`message`) with its `text` or a media
//! `caption`; edits are not new posts. The next request asks for updates after the last one
//! seen (`offset`), which also tells Telegram to drop those delivered. `{"ok": false}` is an
//! error with Telegram's description.

use super::{Post, keep};
use serde::Deserialize;

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    result: Vec<Update>,
    description: Option<String>,
    error_code: Option<i64>,
}

#[derive(Deserialize)]
struct Update {
    update_id: i64,
    message: Option<Message>,
    channel_post: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    message_id: i64,
    date: i64,
    chat: Chat,
    from: Option<User>,
    /// The chat it was sent on behalf of: the channel, or the group of an anonymous admin.
    sender_chat: Option<Chat>,
    /// A channel post a linked group received by itself: the channel's post again.
    #[serde(default)]
    is_automatic_forward: bool,
    author_signature: Option<String>,
    text: Option<String>,
    caption: Option<String>,
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
    username: Option<String>,
    title: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: i64,
    username: Option<String>,
}

/// What one `getUpdates` answer held.
#[derive(Debug, Default, PartialEq)]
pub struct TelegramPage {
    /// The posts with text.
    pub posts: Vec<Post>,
    /// The `offset` of the next request: one past the last update's id.
    pub next_offset: Option<i64>,
}

/// The posts of a `getUpdates` answer, as source `source`, received at `known_at`.
pub fn parse_telegram(json: &str, source: &str, known_at: i64) -> Result<TelegramPage, String> {
    let answer: Answer = serde_json::from_str(json)
        .map_err(|e| format!("{source}: not a getUpdates answer: {e}"))?;
    if !answer.ok {
        return Err(format!(
            "{source}: Telegram refused: {} {}",
            answer.error_code.unwrap_or(0),
            answer.description.unwrap_or_default()
        ));
    }
    let mut page = TelegramPage::default();
    for update in answer.result {
        page.next_offset = Some(
            page.next_offset
                .unwrap_or(i64::MIN)
                .max(update.update_id + 1),
        );
        let Some(m) = update.channel_post.or(update.message) else {
            continue;
        };
        if m.is_automatic_forward {
            continue;
        }
        // Who speaks: a channel (or an anonymous admin's group) by its signature or name, a
        // member by their name.
        let chat_name = |c: &Chat| {
            c.username
                .clone()
                .or_else(|| c.title.clone())
                .unwrap_or_else(|| c.id.to_string())
        };
        let author = match (&m.sender_chat, &m.from) {
            (Some(chat), _) => m
                .author_signature
                .clone()
                .unwrap_or_else(|| chat_name(chat)),
            (None, Some(u)) => u.username.clone().unwrap_or_else(|| u.id.to_string()),
            (None, None) => m
                .author_signature
                .clone()
                .unwrap_or_else(|| chat_name(&m.chat)),
        };
        let post = Post {
            source: source.to_string(),
            id: format!("{}:{}", m.chat.id, m.message_id),
            author,
            text: m.text.or(m.caption).unwrap_or_default(),
            engagement: 0.0,
            created_at: Some(m.date * 1000),
            known_at,
        };
        if keep(&post) {
            page.posts.push(post);
        }
    }
    Ok(page)
}

/// Seconds Telegram asks a client to wait (`parameters.retry_after` of a 429 answer).
pub fn retry_after(json: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get("parameters")?.get("retry_after")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_posts_and_group_messages_with_the_next_offset() {
        let json = r#"{"ok": true, "result": [
            {"update_id": 500, "channel_post": {"message_id": 7, "sender_chat": {"id": -1001, "title": "Whale Alerts", "username": "whales", "type": "channel"},
             "chat": {"id": -1001, "title": "Whale Alerts", "username": "whales", "type": "channel"},
             "date": 1717171717, "text": "ETH breakout 🚀"}},
            {"update_id": 501, "message": {"message_id": 3, "from": {"id": 42, "is_bot": false, "first_name": "C", "username": "carol"},
             "chat": {"id": -2002, "title": "Traders", "type": "supergroup"}, "date": 1717171720,
             "photo": [], "caption": "rug incoming"}},
            {"update_id": 502, "edited_channel_post": {"message_id": 7, "chat": {"id": -1001, "type": "channel"}, "date": 1717171717, "edit_date": 1717171800, "text": "ETH breakout"}},
            {"update_id": 503, "message": {"message_id": 4, "from": {"id": 43, "is_bot": false, "first_name": "D"},
             "chat": {"id": -2002, "type": "supergroup"}, "date": 1717171730, "sticker": {}}},
            {"update_id": 504, "message": {"message_id": 5, "from": {"id": 777000, "is_bot": false, "first_name": "Telegram"},
             "sender_chat": {"id": -1001, "title": "Whale Alerts", "username": "whales", "type": "channel"},
             "is_automatic_forward": true, "chat": {"id": -2002, "type": "supergroup"}, "date": 1717171740, "text": "ETH breakout 🚀"}},
            {"update_id": 505, "message": {"message_id": 6, "from": {"id": 1087968824, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"},
             "sender_chat": {"id": -2002, "title": "Traders", "type": "supergroup"},
             "chat": {"id": -2002, "title": "Traders", "type": "supergroup"}, "date": 1717171750, "text": "SOL looks weak"}}
        ]}"#;
        let page = parse_telegram(json, "tg", 5).unwrap();
        assert_eq!(page.next_offset, Some(506));
        let got: Vec<(&str, &str, &str, Option<i64>)> = page
            .posts
            .iter()
            .map(|p| {
                (
                    p.id.as_str(),
                    p.author.as_str(),
                    p.text.as_str(),
                    p.created_at,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "-1001:7",
                    "whales",
                    "ETH breakout 🚀",
                    Some(1_717_171_717_000)
                ),
                ("-2002:3", "carol", "rug incoming", Some(1_717_171_720_000)),
                (
                    "-2002:6",
                    "Traders",
                    "SOL looks weak",
                    Some(1_717_171_750_000)
                ),
            ]
        );
    }

    #[test]
    fn a_refusal_is_an_error_with_telegrams_words_and_its_wait() {
        let json = r#"{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}"#;
        let err = parse_telegram(json, "tg", 0).unwrap_err();
        assert_eq!(
            err,
            "tg: Telegram refused: 429 Too Many Requests: retry after 7"
        );
        assert_eq!(retry_after(json), Some(7));
        assert_eq!(
            parse_telegram(r#"{"ok": true, "result": []}"#, "tg", 0).unwrap(),
            TelegramPage::default()
        );
        assert!(parse_telegram("[1, 2", "tg", 0).is_err());
    }
}
