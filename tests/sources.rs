//! Non-market sources over real loopback HTTP: each value is emitted once, stamped with the
//! time it was received (never earlier), and a malformed answer is an error naming the source.

use axum::Router;
use axum::routing::get;
use stratbox::feeds::sources::{Format, Poller, PollerConfig, SourceEvent};

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
