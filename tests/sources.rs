//! Non-market sources over real loopback HTTP: each value is emitted once, stamped with the
//! time it was received (never earlier), and a malformed answer is an error naming the source.
//! The social APIs are replayed from recorded payloads (`tests/fixtures/social`) through their
//! rate limits, server errors and malformed answers.

mod common;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stratbox::feeds::sources::{Format, Poller, PollerConfig, Post, SourceEvent};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn poller(name: &str, url: String, format: Format) -> Poller {
    Poller::new(PollerConfig {
        name: name.into(),
        url,
        format,
        every_s: 60,
        token_env: None,
        token: None,
        user_agent: None,
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn pollers_emit_each_value_once_stamped_when_received() {
    let base = serve(
        Router::new()
            .route("/fng", get(|| async { r#"{"name":"Fear and Greed Index","data":[{"value":"25","value_classification":"Extreme Fear","timestamp":"1700000000"}],"metadata":{"error":null}}"# }))
            .route("/fred", get(|| async { "observation_date,DGS10\n2024-01-02,3.95\n2024-01-03,.\n2024-01-04,3.99\n" }))
            .route("/rss", get(|| async { r#"<rss version="2.0"><channel><item><title>Rates cut</title><guid>n1</guid><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item></channel></rss>"# }))
            .route("/bad", get(|| async { "{\"data\": [" })),
    )
    .await;
    let before = now_ms();
    let mut fng = poller("fng", format!("{base}/fng"), Format::FearGreed);
    let events = fng.poll().await.unwrap();
    let [SourceEvent::Observation(o)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(
        (o.value, o.observed_at, o.label.as_deref()),
        (25.0, 1_700_000_000_000, Some("Extreme Fear"))
    );
    assert!(
        o.known_at >= before,
        "known when received, not when the source dated it"
    );
    assert!(
        fng.poll().await.unwrap().is_empty(),
        "nothing new on the second poll"
    );

    let mut fred = poller("rates", format!("{base}/fred"), Format::FredCsv);
    let values: Vec<f64> = fred
        .poll()
        .await
        .unwrap()
        .into_iter()
        .map(|e| match e {
            SourceEvent::Observation(o) => o.value,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(values, [3.95, 3.99]);

    let mut rss = poller("wire", format!("{base}/rss"), Format::Feed);
    let events = rss.poll().await.unwrap();
    let [SourceEvent::Headline(h)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(
        (h.title.as_str(), h.published_at),
        ("Rates cut", Some(1_704_067_200_000))
    );
    assert!(h.known_at >= before && h.known_at > h.published_at.unwrap());
    assert!(rss.poll().await.unwrap().is_empty());

    let err = poller("broken", format!("{base}/bad"), Format::FearGreed)
        .poll()
        .await
        .unwrap_err();
    assert!(err.contains("fear & greed"), "{err}");
    let err = poller("missing", format!("{base}/nothing"), Format::Feed)
        .poll()
        .await
        .unwrap_err();
    assert!(err.contains("missing") && err.contains("404"), "{err}");
}

/// A recorded answer of a social API, from `tests/fixtures/social`.
fn payload(name: &str) -> String {
    std::fs::read_to_string(common::repo_root().join("tests/fixtures/social").join(name)).unwrap()
}

/// An answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

/// A request: its query and `Authorization` header.
type Call = (HashMap<String, String>, Option<String>);

/// Answers in turn, one per request (the last repeated); each request recorded.
#[derive(Clone, Default)]
struct Script {
    answers: Arc<Vec<Answer>>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Script {
    fn new(answers: Vec<Answer>) -> Self {
        Script {
            answers: Arc::new(answers),
            calls: Arc::default(),
        }
    }

    fn route(&self) -> axum::routing::MethodRouter {
        let script = self.clone();
        get(
            move |Query(query): Query<HashMap<String, String>>, headers: HeaderMap| {
                let script = script.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(String::from);
                    let mut calls = script.calls.lock().unwrap();
                    calls.push((query, auth));
                    let (status, headers, body) =
                        &script.answers[(calls.len() - 1).min(script.answers.len() - 1)];
                    let mut response = (
                        StatusCode::from_u16(*status).unwrap(),
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body.clone(),
                    )
                        .into_response();
                    for (name, value) in headers {
                        response.headers_mut().insert(*name, value.parse().unwrap());
                    }
                    response
                }
            },
        )
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

/// The posts of a social poll, which ends with its `Polled` mark (and holds nothing else).
fn posts(events: Vec<SourceEvent>) -> Vec<Post> {
    let mut events = events;
    match events.pop() {
        Some(SourceEvent::Polled(p)) => assert!(p.known_at > 0, "{p:?}"),
        other => panic!("a social poll ends with its mark: {other:?}"),
    }
    events
        .into_iter()
        .map(|e| match e {
            SourceEvent::Post(p) => p,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn ids(events: &[Post]) -> Vec<&str> {
    events.iter().map(|p| p.id.as_str()).collect()
}

#[tokio::test]
async fn reddit_listings_through_a_429_a_5xx_and_malformed_json_give_each_post_once() {
    let new = Script::new(vec![
        (
            429,
            vec![("retry-after", "7".into())],
            r#"{"message": "Too Many Requests", "error": 429}"#.into(),
        ),
        (200, vec![], payload("reddit_new.json")),
        (503, vec![], "<html>upstream</html>".into()),
        (
            200,
            vec![],
            "{\"kind\": \"Listing\", \"data\": {\"children\": [".into(),
        ),
        (200, vec![], payload("reddit_new_2.json")),
    ]);
    let comments = Script::new(vec![
        (200, vec![], payload("reddit_comments.json")),
        (200, vec![], payload("reddit_comments_2.json")),
        (200, vec![], payload("reddit_comments_3.json")),
    ]);
    let base = serve(
        Router::new()
            .route("/r/CryptoCurrency/new.json", new.route())
            .route("/r/Bitcoin/comments.json", comments.route()),
    )
    .await;
    let mut reddit = poller(
        "reddit",
        format!("{base}/r/CryptoCurrency/new.json"),
        Format::Reddit,
    );
    let err = reddit.poll().await.unwrap_err();
    assert!(err.contains("429") && err.contains("wait 7 s"), "{err}");
    assert_eq!(
        reddit.retry_after(),
        Some(std::time::Duration::from_secs(7))
    );
    let before = now_ms();
    let first = posts(reddit.poll().await.unwrap());
    assert_eq!(reddit.retry_after(), None);
    assert_eq!(
        ids(&first),
        ["t3_1d5xq2a", "t3_1d5xq2b"],
        "the removed post is not one"
    );
    assert_eq!(first[0].engagement, 154.0);
    assert_eq!(first[0].created_at, Some(1_717_243_200_000));
    assert!(first[0].known_at >= before, "known when received");
    let err = reddit.poll().await.unwrap_err();
    assert!(err.contains("503"), "{err}");
    let err = reddit.poll().await.unwrap_err();
    assert!(err.contains("reddit: not a Reddit listing"), "{err}");
    let second = posts(reddit.poll().await.unwrap());
    assert_eq!(
        ids(&second),
        ["t3_1d5xq2d"],
        "what was emitted is not emitted again"
    );

    let mut comments_poller = poller(
        "reddit_btc",
        format!("{base}/r/Bitcoin/comments.json"),
        Format::Reddit,
    );
    let c = posts(comments_poller.poll().await.unwrap());
    assert_eq!(
        ids(&c),
        ["t1_l6abc01", "t1_l6abc02"],
        "the first poll takes one page"
    );
    assert_eq!(c[0].text, "BTC dip is pure fud, accumulating");
    // The next poll's page is all new: the older page follows, up to a comment seen before.
    let c = posts(comments_poller.poll().await.unwrap());
    assert_eq!(ids(&c), ["t1_l6abc07", "t1_l6abc06", "t1_l6abc05"]);
    let after: Vec<Option<String>> = comments
        .calls()
        .into_iter()
        .map(|(q, _)| q.get("after").cloned())
        .collect();
    assert_eq!(after, [None, None, Some("t1_l6abc05".into())]);
}

#[tokio::test]
async fn telegram_pages_on_by_offset_waits_as_asked_and_never_shows_its_token() {
    let script = Script::new(vec![
        (200, vec![], payload("telegram_updates.json")),
        (429, vec![], payload("telegram_429.json")),
        (200, vec![], payload("telegram_updates_2.json")),
        (200, vec![], r#"{"ok": true, "result": []}"#.into()),
    ]);
    let token = "6012345678:AAFsecret-token";
    let base = serve(Router::new().route(&format!("/bot{token}/getUpdates"), script.route())).await;
    let config = |url: String| PollerConfig {
        name: "telegram".into(),
        url,
        format: Format::Telegram,
        every_s: 60,
        token_env: Some("TELEGRAM_BOT_TOKEN".into()),
        token: Some(token.into()),
        user_agent: None,
    };
    let mut tg = Poller::new(config(format!("{base}/bot{{token}}/getUpdates")));
    let first = posts(tg.poll().await.unwrap());
    assert_eq!(ids(&first), ["-1001234567890:9051", "-1009876543210:311"]);
    assert_eq!(first[0].author, "cryptosignals");
    assert_eq!(first[1].text, "ETH chart, looks like a dump 📉");
    let err = tg.poll().await.unwrap_err();
    assert!(err.contains("429") && err.contains("wait 3 s"), "{err}");
    let second = posts(tg.poll().await.unwrap());
    assert_eq!(ids(&second), ["-1009876543210:313"]);
    assert!(posts(tg.poll().await.unwrap()).is_empty());
    let offsets: Vec<Option<String>> = script
        .calls()
        .into_iter()
        .map(|(q, _)| q.get("offset").cloned())
        .collect();
    assert_eq!(
        offsets,
        [
            None,
            Some("871230104".into()),
            Some("871230104".into()),
            Some("871230105".into())
        ],
        "each request asks for what follows the last update seen"
    );
    // A failure to connect names the source, never the URL with the token in it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!(
        "http://{}/bot{{token}}/getUpdates",
        closed.local_addr().unwrap()
    );
    drop(closed);
    let err = Poller::new(config(dead)).poll().await.unwrap_err();
    assert!(
        err.starts_with("telegram: ") && !err.contains("AAFsecret"),
        "{err}"
    );
    let mut unset = config(format!("{base}/bot{{token}}/getUpdates"));
    unset.token = None;
    unset.token_env = Some("STRATBOX_TEST_UNSET_TOKEN".into());
    let err = Poller::new(unset).poll().await.unwrap_err();
    assert!(
        err.contains("STRATBOX_TEST_UNSET_TOKEN is not set"),
        "{err}"
    );
}

#[tokio::test]
async fn x_search_sends_its_bearer_pages_by_since_id_and_waits_for_the_reset() {
    let reset = (now_ms() / 1000 + 30).to_string();
    let script = Script::new(vec![
        (200, vec![], payload("x_search.json")),
        (200, vec![], payload("x_search_page2.json")),
        (429, vec![("x-rate-limit-reset", reset)], r#"{"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}"#.into()),
        (200, vec![], payload("x_empty.json")),
        (200, vec![], payload("x_search_2.json")),
    ]);
    let base = serve(Router::new().route("/2/tweets/search/recent", script.route())).await;
    let mut x = Poller::new(PollerConfig {
        name: "x".into(),
        url: format!(
            "{base}/2/tweets/search/recent?query=%24BTC%20OR%20%24ETH%20OR%20%24SOL&tweet.fields=created_at,public_metrics,author_id&expansions=author_id"
        ),
        format: Format::XRecentSearch,
        every_s: 60,
        token_env: Some("X_BEARER_TOKEN".into()),
        token: Some("bearer-abc".into()),
        user_agent: None,
    });
    let first = posts(x.poll().await.unwrap());
    assert_eq!(ids(&first), ["1797001", "1797000", "1796990"], "both pages");
    assert_eq!(
        (first[0].author.as_str(), first[0].engagement),
        ("solmaxi", 98.0)
    );
    let err = x.poll().await.unwrap_err();
    let wait = x.retry_after().unwrap().as_secs();
    assert!(
        err.contains("429") && (28..=30).contains(&wait),
        "{err}: {wait}"
    );
    assert!(posts(x.poll().await.unwrap()).is_empty());
    assert_eq!(ids(&posts(x.poll().await.unwrap())), ["1797050"]);
    let calls = script.calls();
    assert!(
        calls
            .iter()
            .all(|(_, auth)| auth.as_deref() == Some("Bearer bearer-abc")),
        "{:?}",
        calls
    );
    let since: Vec<(Option<&str>, Option<&str>)> = calls
        .iter()
        .map(|(q, _)| {
            (
                q.get("since_id").map(String::as_str),
                q.get("pagination_token").map(String::as_str),
            )
        })
        .collect();
    // The second page of the first search, then the search from its newest tweet on.
    assert_eq!(
        since,
        [
            (None, None),
            (None, Some("b26v89c19zqg8o3fpe17")),
            (Some("1797001"), None),
            (Some("1797001"), None),
            (Some("1797001"), None)
        ]
    );
    assert_eq!(
        calls[0].0.get("query").map(String::as_str),
        Some("$BTC OR $ETH OR $SOL")
    );
}

#[test]
fn a_services_social_sources_are_feature_sources_and_a_tokenless_x_search_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let write = |extra: &str| {
        let path = dir.path().join("service.toml");
        std::fs::write(
            &path,
            format!(
                "[market]\nsource = \"simulator\"\nsymbols = [\"BTCUSDT\"]\n\n[[sources]]\nname = \"reddit\"\nurl = \"https://www.reddit.com/r/Bitcoin/new.json\"\nformat = \"reddit\"\nevery_s = 60\n{extra}"
            ),
        )
        .unwrap();
        common::run_stratbox(&["features", "list", "--config", path.to_str().unwrap()])
    };
    let (ok, out) = write("");
    assert!(ok, "{out}");
    for name in [
        "social.reddit.mentions",
        "social.reddit.share_of_voice",
        "social.reddit.author_diversity",
    ] {
        assert!(out.contains(name), "{name}: {out}");
    }
    let (ok, out) = write(
        "\n[[sources]]\nname = \"x\"\nurl = \"https://api.x.com/2/tweets/search/recent?query=btc\"\nformat = \"x_recent_search\"\nevery_s = 60\n",
    );
    assert!(
        !ok && out.contains("sources.x: X's recent search needs token_env"),
        "{out}"
    );
    // A poll period as long as the window would leave the features unknown between polls.
    let (ok, out) = write("\n[features.social]\nwindow_minutes = 1\n");
    assert!(
        !ok && out.contains("must be shorter than features.social.window_minutes (1 min)"),
        "{out}"
    );
    // So would one shorter than the window whose jitter (up to a tenth more) and one request's
    // time reach past it.
    let (ok, out) = write(
        "\n[[sources]]\nname = \"reddit_slow\"\nurl = \"https://www.reddit.com/r/CryptoCurrency/new.json\"\nformat = \"reddit\"\nevery_s = 3250\n",
    );
    assert!(
        !ok && out.contains(
            "sources.reddit_slow: every_s (3250) plus its tenth of jitter and one request's timeout (30 s), 3605 s, must be shorter than features.social.window_minutes (60 min)"
        ),
        "{out}"
    );
    let (ok, out) = write(
        "\n[[sources]]\nname = \"reddit_slow\"\nurl = \"https://www.reddit.com/r/CryptoCurrency/new.json\"\nformat = \"reddit\"\nevery_s = 3200\n",
    );
    assert!(
        ok,
        "3200 s, 320 s of jitter and 30 s of request fit in 60 min: {out}"
    );
}
