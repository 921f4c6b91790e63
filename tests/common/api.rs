//! Talking HTTP to a running service's API.

use super::service::{Server, TOKEN};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Talks HTTP to the service.
pub struct Api {
    pub runtime: tokio::runtime::Runtime,
    pub http: reqwest::Client,
    pub endpoint: String,
}

impl Api {
    pub fn new(server: &Server) -> Api {
        Api {
            runtime: tokio::runtime::Runtime::new().unwrap(),
            http: reqwest::Client::new(),
            endpoint: server.endpoint.clone(),
        }
    }

    pub fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        self.runtime.block_on(async {
            let url = format!("{}{path}", self.endpoint);
            let mut request = self
                .http
                .request(method.parse().unwrap(), url)
                .bearer_auth(token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }

    pub fn get(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.call("GET", path, token, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Polls `GET path` until `pred` holds, for at most 30 s.
    pub fn wait(&self, path: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for(path, what, 30, pred)
    }

    /// Polls `GET path` until `pred` holds, for at most `seconds`.
    pub fn wait_for(
        &self,
        path: &str,
        what: &str,
        seconds: u64,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            // Four polls a second stay under the slowest rate limit the tests set.
            let (status, body) = self.call("GET", path, TOKEN, None);
            if status == 200 && pred(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "waited {seconds} s for {what}: {status} {body}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}
