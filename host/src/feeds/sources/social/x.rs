//! X's API v2 recent search (`GET /2/tweets/search/recent`, asked for
//! `tweet.fields=created_at,public_metrics,author_id` and `expansions=author_id`): the tweets in
//! `data`, their authors in `includes.users`, and `meta.newest_id`, from which the next search
//! starts (`since_id`). No match gives `meta.result_count` 0 and no `data`; an answer with
//! `errors` and no `data` is an error with X's words.

use super::{Post, keep};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
struct Answer {
    data: Option<Vec<Tweet>>,
    includes: Option<Includes>,
    meta: Option<Meta>,
    errors: Option<Vec<ApiError>>,
}

#[derive(Deserialize)]
struct Tweet {
    id: String,
    text: String,
    author_id: Option<String>,
    created_at: Option<String>,
    public_metrics: Option<Metrics>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Metrics {
    retweet_count: f64,
    reply_count: f64,
    like_count: f64,
    quote_count: f64,
}

#[derive(Deserialize)]
struct Includes {
    #[serde(default)]
    users: Vec<XUser>,
}

#[derive(Deserialize)]
struct XUser {
    id: String,
    username: String,
}

#[derive(Deserialize)]
struct Meta {
    newest_id: Option<String>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    title: Option<String>,
    detail: Option<String>,
}

/// What one recent-search answer held.
#[derive(Debug, Default, PartialEq)]
pub struct XPage {
    /// The tweets.
    pub posts: Vec<Post>,
    /// The newest tweet's id: the next search's `since_id`.
    pub newest_id: Option<String>,
    /// The next (older) page of the same search (`pagination_token`), if there is one.
    pub next_token: Option<String>,
}

/// The tweets of a recent-search answer, as source `source`, received at `known_at`.
pub fn parse_x_search(json: &str, source: &str, known_at: i64) -> Result<XPage, String> {
    let answer: Answer = serde_json::from_str(json)
        .map_err(|e| format!("{source}: not a recent-search answer: {e}"))?;
    if answer.data.is_none()
        && let Some(errors) = &answer.errors
        && let Some(first) = errors.first()
    {
        return Err(format!(
            "{source}: X refused: {} {}",
            first.title.as_deref().unwrap_or(""),
            first.detail.as_deref().unwrap_or("")
        ));
    }
    let users: HashMap<String, String> = answer
        .includes
        .map(|i| i.users.into_iter().map(|u| (u.id, u.username)).collect())
        .unwrap_or_default();
    let posts = answer
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let m = t.public_metrics.unwrap_or_default();
            let author = t.author_id.unwrap_or_default();
            Post {
                source: source.to_string(),
                author: users.get(&author).cloned().unwrap_or(author),
                engagement: m.like_count + m.retweet_count + m.reply_count + m.quote_count,
                created_at: t
                    .created_at
                    .as_deref()
                    .and_then(super::super::news::parse_date),
                id: t.id,
                text: t.text,
                known_at,
            }
        })
        .filter(keep)
        .collect();
    let (newest_id, next_token) = answer
        .meta
        .map_or((None, None), |m| (m.newest_id, m.next_token));
    Ok(XPage {
        posts,
        newest_id,
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tweets_come_with_their_authors_names_and_engagement() {
        let json = r#"{"data": [
            {"author_id": "2244994945", "created_at": "2024-06-01T12:00:05.000Z", "edit_history_tweet_ids": ["1796"],
             "id": "1796", "public_metrics": {"retweet_count": 3, "reply_count": 1, "like_count": 10, "quote_count": 0, "bookmark_count": 2, "impression_count": 900},
             "text": "$SOL looking bullish"},
            {"author_id": "99", "created_at": "2024-06-01T12:00:01.000Z", "id": "1795", "text": "gm"}
        ],
        "includes": {"users": [{"id": "2244994945", "name": "Dev", "username": "dev"}]},
        "meta": {"newest_id": "1796", "oldest_id": "1795", "result_count": 2}}"#;
        let page = parse_x_search(json, "x", 1).unwrap();
        assert_eq!(page.newest_id.as_deref(), Some("1796"));
        let p = &page.posts[0];
        assert_eq!((p.id.as_str(), p.author.as_str()), ("1796", "dev"));
        assert_eq!(p.engagement, 14.0);
        assert_eq!(p.created_at, Some(1_717_243_205_000));
        assert_eq!(
            page.posts[1].author, "99",
            "an author not in includes keeps its id"
        );
    }

    #[test]
    fn no_match_is_empty_and_errors_are_xs_words() {
        let page = parse_x_search(r#"{"meta": {"result_count": 0}}"#, "x", 1).unwrap();
        assert_eq!(page, XPage::default());
        let err = parse_x_search(
            r#"{"errors": [{"parameters": {"since_id": ["1"]}, "message": "Invalid", "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"}], "title": "Invalid Request"}"#,
            "x",
            1,
        )
        .unwrap_err();
        assert!(
            err.starts_with("x: X refused: Invalid Request One or more"),
            "{err}"
        );
    }
}
