//! Reddit listings: `/r/<subreddit>/new.json` gives posts (`t3`: title and selftext),
//! `/r/<subreddit>/comments.json` comments (`t1`: body), each a `Listing` whose `children` are
//! things of a `kind` with their `data`. A thread's JSON (an array of listings) is read too.

use super::{Post, keep};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(untagged)]
enum Answer {
    One(Listing),
    Many(Vec<Listing>),
}

#[derive(Deserialize)]
struct Listing {
    kind: String,
    data: ListingData,
}

#[derive(Deserialize)]
struct ListingData {
    children: Vec<Thing>,
    #[serde(default)]
    after: Option<String>,
}

/// What one listing held.
#[derive(Debug, Default, PartialEq)]
pub struct RedditPage {
    /// The posts and comments with text.
    pub posts: Vec<Post>,
    /// The next (older) page's cursor (`after`), if there is one.
    pub after: Option<String>,
}

#[derive(Deserialize)]
struct Thing {
    kind: String,
    data: serde_json::Value,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry {
    name: Option<String>,
    id: Option<String>,
    author: Option<String>,
    title: Option<String>,
    selftext: Option<String>,
    body: Option<String>,
    score: Option<f64>,
    num_comments: Option<f64>,
    created_utc: Option<f64>,
}

/// The posts and comments of a Reddit listing, as source `source`, received at `known_at`.
/// Things other than posts and comments (`more`, subreddits) are passed over.
pub fn parse_reddit(json: &str, source: &str, known_at: i64) -> Result<RedditPage, String> {
    let answer: Answer =
        serde_json::from_str(json).map_err(|e| format!("{source}: not a Reddit listing: {e}"))?;
    let listings = match answer {
        Answer::One(l) => vec![l],
        Answer::Many(ls) => ls,
    };
    let mut out = Vec::new();
    let mut after = None;
    for listing in listings {
        if listing.kind != "Listing" {
            return Err(format!(
                "{source}: expected a Listing, found kind {:?}",
                listing.kind
            ));
        }
        after = listing.data.after;
        for thing in listing.data.children {
            let text_of = |e: &Entry| match thing.kind.as_str() {
                "t3" => Some(
                    [e.title.as_deref(), e.selftext.as_deref()]
                        .into_iter()
                        .flatten()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                "t1" => e.body.clone(),
                _ => None,
            };
            let entry: Entry = serde_json::from_value(thing.data.clone())
                .map_err(|e| format!("{source}: a {} without its fields: {e}", thing.kind))?;
            let Some(text) = text_of(&entry) else {
                continue;
            };
            let Some(id) = entry
                .name
                .clone()
                .or_else(|| entry.id.as_ref().map(|id| format!("{}_{id}", thing.kind)))
            else {
                return Err(format!("{source}: a {} with no name or id", thing.kind));
            };
            let post = Post {
                source: source.to_string(),
                id,
                author: entry.author.clone().unwrap_or_default(),
                text,
                engagement: entry.score.unwrap_or(0.0).max(0.0)
                    + entry.num_comments.unwrap_or(0.0).max(0.0),
                created_at: entry
                    .created_utc
                    .filter(|t| t.is_finite())
                    .map(|t| (t * 1000.0).round() as i64),
                known_at,
            };
            if keep(&post) {
                out.push(post);
            }
        }
    }
    Ok(RedditPage { posts: out, after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_and_comments_come_with_their_engagement_and_removed_ones_do_not() {
        let json = r#"{"kind": "Listing", "data": {"after": "t3_b", "dist": 3, "children": [
            {"kind": "t3", "data": {"subreddit": "Bitcoin", "selftext": "Up only", "author": "alice",
             "title": "BTC to the moon", "name": "t3_a", "id": "a", "score": 41, "num_comments": 9,
             "created_utc": 1717171717.0, "ups": 41}},
            {"kind": "t3", "data": {"selftext": "[removed]", "title": "", "name": "t3_b", "author": "[deleted]",
             "score": 0, "num_comments": 0, "created_utc": 1717171720.0}},
            {"kind": "t1", "data": {"body": "fud everywhere", "author": "bob", "name": "t1_c",
             "score": -3, "created_utc": 1717171730.5, "link_id": "t3_a"}}
        ]}}"#;
        let page = parse_reddit(json, "reddit", 99).unwrap();
        assert_eq!(page.after.as_deref(), Some("t3_b"));
        let posts = page.posts;
        assert_eq!(posts.len(), 2, "{posts:?}");
        assert_eq!(
            (
                posts[0].id.as_str(),
                posts[0].author.as_str(),
                posts[0].text.as_str()
            ),
            ("t3_a", "alice", "BTC to the moon\nUp only")
        );
        assert_eq!(posts[0].engagement, 50.0);
        assert_eq!(posts[0].created_at, Some(1_717_171_717_000));
        assert_eq!(posts[0].known_at, 99);
        assert_eq!((posts[1].id.as_str(), posts[1].engagement), ("t1_c", 0.0));
        assert_eq!(posts[1].created_at, Some(1_717_171_730_500));
    }

    #[test]
    fn what_is_not_a_listing_is_an_error_naming_the_source() {
        let err =
            parse_reddit(r#"{"message": "Too Many Requests", "error": 429}"#, "r", 0).unwrap_err();
        assert!(err.starts_with("r: not a Reddit listing"), "{err}");
        let err = parse_reddit(r#"{"kind": "t5", "data": {"children": []}}"#, "r", 0).unwrap_err();
        assert!(err.contains("expected a Listing"), "{err}");
        assert!(parse_reddit("{\"kind\": \"Listing\", \"data\": {", "r", 0).is_err());
    }
}
