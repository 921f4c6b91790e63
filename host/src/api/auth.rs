//! Who may call the API: bearer tokens, each with a scope (read < trade < admin), known only by
//! the SHA-256 of their secrets; a token bucket per token; and the audit log of every action.

use super::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::Instant;

/// What a token may do; each scope includes the ones before it.
#[derive(
    utoipa::ToSchema,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read everything but the tokens and the audit log; run the risk analyses.
    Read,
    /// Also deploy, swap, roll back, halt, resume and remove deployments, set trading states,
    /// rebalance and pull the kill switch.
    Trade,
    /// Also manage tokens, read the audit log, change the feeds and load models.
    Admin,
}

impl Scope {
    /// Its name in the API.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Trade => "trade",
            Scope::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "read" => Ok(Scope::Read),
            "trade" => Ok(Scope::Trade),
            "admin" => Ok(Scope::Admin),
            other => Err(format!("scope {other:?}: use read, trade or admin")),
        }
    }
}

/// Where a token comes from.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenSource {
    /// The configuration file (`server.token` or `[[server.tokens]]`): fixed while it runs.
    Config,
    /// Created through the API and kept in the store.
    Api,
}

/// A token's own request rate, in place of the service's `[server]` one.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests a second, on average (above 0).
    pub per_second: f64,
    /// Requests at once before the rate applies (at least 1).
    pub burst: f64,
}

impl RateLimit {
    /// Why the rate cannot be used, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.per_second > 0.0
            && self.per_second.is_finite()
            && self.burst >= 1.0
            && self.burst.is_finite()
        {
            Ok(())
        } else {
            Err(format!(
                "rate limit {} a second with a burst of {}: the rate must be above 0 and the burst at least 1",
                self.per_second, self.burst
            ))
        }
    }
}

/// A token the service accepts.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Its name (who holds it).
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// Where it comes from.
    pub source: TokenSource,
    /// Its own request rate; the service's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

/// Hex SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The tokens the service accepts, by the hash of their secret.
#[derive(Debug, Default)]
pub struct TokenRegistry {
    by_hash: RwLock<HashMap<String, TokenInfo>>,
}

impl TokenRegistry {
    /// Accepts the secret whose hex SHA-256 is `sha256` as `info`.
    pub fn insert(&self, sha256: String, info: TokenInfo) {
        self.write().insert(sha256.to_ascii_lowercase(), info);
    }

    /// Stops accepting token `name`; false when there is none.
    pub fn remove(&self, name: &str) -> bool {
        let mut map = self.write();
        let before = map.len();
        map.retain(|_, t| t.name != name);
        map.len() != before
    }

    /// The token with this name.
    pub fn named(&self, name: &str) -> Option<TokenInfo> {
        self.read().values().find(|t| t.name == name).cloned()
    }

    /// Every token, by name.
    pub fn list(&self) -> Vec<TokenInfo> {
        let mut all: Vec<TokenInfo> = self.read().values().cloned().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// The token whose secret is `secret`.
    pub fn find(&self, secret: &str) -> Option<TokenInfo> {
        self.read().get(&hash_secret(secret)).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, TokenInfo>> {
        self.by_hash.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, TokenInfo>> {
        self.by_hash.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A fresh secret: `sbx_` and 32 random bytes in hex.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("sbx_{}", hex::encode(bytes)))
}

/// Requests each token may make: a bucket of `burst` that refills at `per_second`, the
/// token's own rate or the service's.
#[derive(Debug)]
pub struct RateLimiter {
    default: RateLimit,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter refilling `per_second` up to `burst` for tokens without a rate of their own.
    pub fn new(per_second: f64, burst: f64) -> Self {
        RateLimiter {
            default: RateLimit { per_second, burst },
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `token`'s bucket at `now`, or the seconds until one is there.
    pub fn take(&self, token: &TokenInfo, now: Instant) -> Result<(), f64> {
        let RateLimit { per_second, burst } = token.rate_limit.unwrap_or(self.default);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (level, last) = buckets.entry(token.name.clone()).or_insert((burst, now));
        let refilled = *level + now.saturating_duration_since(*last).as_secs_f64() * per_second;
        *level = refilled.min(burst);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err((1.0 - *level) / per_second)
        }
    }
}

/// The caller of a request, once authenticated.
#[derive(Clone, Debug)]
pub struct Caller(pub TokenInfo);

/// Authenticates the bearer token, refuses it below `required`, applies its rate limit, and
/// records every action (anything but GET) in the audit log with its result.
pub(super) async fn authorize(
    State((state, required)): State<(AppState, Scope)>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(token) = state.tokens.find(presented) else {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token".into(),
        ));
    };
    let method = request.method().clone();
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_string(), |p| p.to_string());
    if token.scope < required {
        let message = format!(
            "token {:?} has scope {}; this needs {}",
            token.name,
            token.scope.name(),
            required.name()
        );
        if method != Method::GET {
            audit(
                &state,
                &token,
                &method,
                &path,
                StatusCode::FORBIDDEN,
                Some(&message),
            )
            .await;
        }
        return Err(ApiError(StatusCode::FORBIDDEN, message));
    }
    if let Err(wait) = state.limiter.take(&token, Instant::now()) {
        let retry = wait.ceil().max(1.0) as u64;
        let mut response = ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "token {:?} is over its rate limit; retry in {retry} s",
                token.name
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, retry.into());
        return Ok(response);
    }
    request.extensions_mut().insert(Caller(token.clone()));
    let response = next.run(request).await;
    if method == Method::GET || method == Method::HEAD {
        return Ok(response);
    }
    let status = response.status();
    let (response, detail) = if status.is_success() {
        (response, None)
    } else {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 64 << 10)
            .await
            .unwrap_or_default();
        let detail = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        (
            Response::from_parts(parts, axum::body::Body::from(bytes)),
            Some(detail),
        )
    };
    audit(&state, &token, &method, &path, status, detail.as_deref()).await;
    Ok(response)
}

/// Records an action in the audit log and the log.
async fn audit(
    state: &AppState,
    token: &TokenInfo,
    method: &Method,
    path: &str,
    status: StatusCode,
    detail: Option<&str>,
) {
    let code = status.as_u16();
    if let Err(e) = state
        .store
        .audit(&token.name, method.as_str(), path, code, detail)
        .await
    {
        tracing::error!(actor = %token.name, %method, %path, "action not recorded in the audit log: {e}");
    }
    tracing::info!(actor = %token.name, %method, %path, status = code, detail, "operator action");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn token(name: &str, rate_limit: Option<RateLimit>) -> TokenInfo {
        TokenInfo {
            name: name.into(),
            scope: Scope::Read,
            source: TokenSource::Config,
            rate_limit,
        }
    }

    #[test]
    fn a_bucket_refuses_past_its_burst_and_refills_at_its_rate() {
        let limiter = RateLimiter::new(10.0, 3.0);
        let (a, b) = (token("a", None), token("b", None));
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.take(&a, t0).unwrap();
        }
        let wait = limiter.take(&a, t0).unwrap_err();
        assert!((wait - 0.1).abs() < 1e-9, "{wait}");
        // Another token has its own bucket.
        limiter.take(&b, t0).unwrap();
        // 0.25 s later 2.5 requests are back.
        let t1 = t0 + Duration::from_millis(250);
        limiter.take(&a, t1).unwrap();
        limiter.take(&a, t1).unwrap();
        assert!(limiter.take(&a, t1).is_err());
    }

    #[test]
    fn a_token_with_a_rate_of_its_own_is_held_to_it() {
        let limiter = RateLimiter::new(10.0, 3.0);
        let slow = RateLimit {
            per_second: 1.0,
            burst: 1.0,
        };
        let (fast, slow) = (token("fast", None), token("slow", Some(slow)));
        let t0 = Instant::now();
        limiter.take(&slow, t0).unwrap();
        let wait = limiter.take(&slow, t0).unwrap_err();
        assert!((wait - 1.0).abs() < 1e-9, "{wait}");
        for _ in 0..3 {
            limiter.take(&fast, t0).unwrap();
        }
        assert!(
            RateLimit {
                per_second: 0.0,
                burst: 1.0
            }
            .check()
            .is_err()
        );
        assert!(
            RateLimit {
                per_second: 1.0,
                burst: 0.5
            }
            .check()
            .is_err()
        );
        assert!(
            RateLimit {
                per_second: f64::INFINITY,
                burst: 1.0
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn tokens_are_found_by_their_secret_and_scopes_are_ordered() {
        let registry = TokenRegistry::default();
        registry.insert(hash_secret("s3cret-value"), token("grafana", None));
        assert_eq!(registry.find("s3cret-value").unwrap().name, "grafana");
        assert!(registry.find("s3cret-valuf").is_none());
        assert!(Scope::Read < Scope::Trade && Scope::Trade < Scope::Admin);
        assert!(registry.remove("grafana"));
        assert!(registry.find("s3cret-value").is_none());
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 4 + 64);
        assert_ne!(secret, new_secret().unwrap());
    }
}
