//! The simulator's trading accounts and Binance's request authentication: an API key in
//! `X-MBX-APIKEY`, a `signature` of the request's parameters (HMAC-SHA256 in hex with the
//! account's secret, or Ed25519 in base64 checked with its public key), a `timestamp` within
//! `recvWindow` of the server's clock. The error codes and messages are Binance's.

use super::binance_error;
use super::trading::SimError;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};

/// Binance's default `recvWindow`, in milliseconds.
const DEFAULT_RECV_WINDOW: i64 = 5_000;
/// The largest `recvWindow` Binance accepts.
const MAX_RECV_WINDOW: i64 = 60_000;
/// How far ahead of the server's clock a request's timestamp may be.
const AHEAD_MS: i64 = 1_000;

/// How an account's requests are signed.
#[derive(Clone, Debug)]
pub enum Credential {
    /// HMAC-SHA256 with this secret, the signature in hex.
    Hmac(Vec<u8>),
    /// Ed25519 checked with this public key, the signature in base64.
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl Credential {
    /// The Ed25519 public key in a PEM file (SubjectPublicKeyInfo, as `openssl pkey -pubout`
    /// writes it).
    pub fn ed25519_pem(pem: &str) -> Result<Self, AccountError> {
        use ed25519_dalek::pkcs8::DecodePublicKey;
        ed25519_dalek::VerifyingKey::from_public_key_pem(pem.trim())
            .map(Credential::Ed25519)
            .map_err(|e| AccountError::Keys(format!("not an Ed25519 public key in PEM: {e}")))
    }

    fn verifies(&self, text: &str, signature: &str) -> bool {
        match self {
            Credential::Hmac(secret) => {
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
                mac.update(text.as_bytes());
                hex::decode(signature)
                    .ok()
                    .is_some_and(|given| mac.verify_slice(&given).is_ok())
            }
            Credential::Ed25519(key) => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(signature)
                    .ok()
                    .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
                    .is_some_and(|sig| key.verify_strict(text.as_bytes(), &sig).is_ok())
            }
        }
    }
}

impl SimAccount {
    /// Whether it signs with an Ed25519 key (which `session.logon` requires).
    pub fn is_ed25519(&self) -> bool {
        matches!(self.credential, Credential::Ed25519(_))
    }
}

/// One account of the simulator.
#[derive(Debug)]
pub struct SimAccount {
    /// Its API key.
    pub api_key: String,
    credential: Credential,
    /// Its number, in the order the accounts were opened.
    pub number: u32,
    /// What it starts with, by asset.
    pub starting: BTreeMap<String, f64>,
}

/// Every account, by API key.
#[derive(Debug, Default)]
pub struct SimAccounts {
    by_key: HashMap<String, SimAccount>,
}

/// An account that cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AccountError {
    /// The balances are not `ASSET=AMOUNT,...`.
    #[error("balances {0:?}: use ASSET=AMOUNT,... such as USDT=10000,BTC=1")]
    Balances(String),
    /// Two accounts have one key, or a key or secret is empty.
    #[error("{0}")]
    Keys(String),
}

/// Parses `USDT=10000,BTC=1`.
pub fn parse_balances(text: &str) -> Result<BTreeMap<String, f64>, AccountError> {
    let bad = || AccountError::Balances(text.to_string());
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (asset, amount) = pair.split_once('=').ok_or_else(bad)?;
            let asset = asset.trim().to_ascii_uppercase();
            let free: f64 = amount.trim().parse().map_err(|_| bad())?;
            if asset.is_empty()
                || !asset.chars().all(|c| c.is_ascii_alphanumeric())
                || !(free >= 0.0 && free.is_finite())
            {
                return Err(bad());
            }
            Ok((asset, free))
        })
        .collect()
}

impl SimAccounts {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The accounts in the order they were opened.
    pub fn in_order(&self) -> Vec<&SimAccount> {
        let mut all: Vec<&SimAccount> = self.by_key.values().collect();
        all.sort_by_key(|a| a.number);
        all
    }

    /// Opens an account with `api_key`, the `credential` its requests are signed with and
    /// `balances`.
    pub fn open(
        &mut self,
        api_key: &str,
        credential: Credential,
        balances: BTreeMap<String, f64>,
    ) -> Result<(), AccountError> {
        if api_key.is_empty() || matches!(&credential, Credential::Hmac(s) if s.is_empty()) {
            return Err(AccountError::Keys(
                "an account needs a non-empty --api-key and --api-secret (or --ed25519-key)".into(),
            ));
        }
        if self.by_key.contains_key(api_key) {
            return Err(AccountError::Keys(format!(
                "two accounts have the API key {api_key:?}"
            )));
        }
        self.by_key.insert(
            api_key.to_string(),
            SimAccount {
                api_key: api_key.to_string(),
                credential,
                number: self.by_key.len() as u32,
                starting: balances,
            },
        );
        Ok(())
    }

    /// The account with `api_key`.
    pub fn get(&self, api_key: &str) -> Option<&SimAccount> {
        self.by_key.get(api_key)
    }

    /// Authenticates a signed REST request as Binance does: the key in `X-MBX-APIKEY`, the
    /// signature of the query string without its `signature` followed by the body,
    /// and a `timestamp` no older than `recvWindow` and at most a second ahead of `now_ms`.
    /// The account and every parameter (query and form body) on success.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        query: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<(&SimAccount, BTreeMap<String, String>), Response> {
        let key = headers
            .get("x-mbx-apikey")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let (signed, signature) = split_signature(query, body);
        let params = parameters(query, body);
        let signature: Option<String> = signature.map(|s| {
            form_urlencoded::parse(format!("s={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        });
        let account = self
            .verify(key, &signed, signature.as_deref(), &params, now_ms)
            .map_err(|e| binance_error(e.status, e.code, &e.msg))?;
        Ok((account, params))
    }

    /// Checks a signed request of account `key`: `signature` of `signed` with its credential,
    /// and the `timestamp` of `params` within their `recvWindow` of `now_ms`.
    pub fn verify(
        &self,
        key: &str,
        signed: &str,
        signature: Option<&str>,
        params: &BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<&SimAccount, SimError> {
        let account = self.by_key.get(key).ok_or_else(|| {
            SimError::new(
                StatusCode::UNAUTHORIZED,
                -2015,
                "Invalid API-key, IP, or permissions for action.",
            )
        })?;
        let timestamp = params
            .get("timestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| SimError::missing("timestamp"))?;
        let signature = signature.ok_or_else(|| SimError::missing("signature"))?;
        let window = match params.get("recvWindow") {
            None => DEFAULT_RECV_WINDOW,
            Some(w) => match w.parse::<f64>() {
                Ok(w) if w > 0.0 && w <= MAX_RECV_WINDOW as f64 => w as i64,
                _ => {
                    return Err(SimError::bad_request(
                        -1131,
                        "recvWindow must be less than 60000",
                    ));
                }
            },
        };
        if timestamp < now_ms - window || timestamp > now_ms + AHEAD_MS {
            return Err(SimError::bad_request(
                -1021,
                "Timestamp for this request is outside of the recvWindow.",
            ));
        }
        if !account.credential.verifies(signed, signature) {
            return Err(SimError::bad_request(
                -1022,
                "Signature for this request is not valid.",
            ));
        }
        Ok(account)
    }
}

fn split_signature<'a>(query: &'a str, body: &'a str) -> (String, Option<&'a str>) {
    let mut signature = None;
    let mut keep = |text: &'a str| -> String {
        let mut kept = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            match pair.strip_prefix("signature=") {
                Some(s) => signature = Some(s),
                None => kept.push(pair),
            }
        }
        kept.join("&")
    };
    let signed = keep(query) + &keep(body);
    (signed, signature)
}

/// Every parameter of the query and of a form body, decoded (the body's win).
fn parameters(query: &str, body: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    for text in [query, body] {
        for (k, v) in form_urlencoded::parse(text.as_bytes()) {
            params.insert(k.into_owned(), v.into_owned());
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, text: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn accounts() -> SimAccounts {
        let mut a = SimAccounts::default();
        a.open(
            "key",
            Credential::Hmac(b"secret".to_vec()),
            parse_balances("USDT=100").unwrap(),
        )
        .unwrap();
        a
    }

    fn headers(key: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-mbx-apikey", key.parse().unwrap());
        h
    }

    fn code(r: Response) -> (u16, i64) {
        let status = r.status().as_u16();
        let body = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async { axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap() });
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        (status, v["code"].as_i64().unwrap())
    }

    #[test]
    fn binance_documented_example_signature_is_accepted() {
        // Binance's documented HMAC example (SIGNED endpoint security, api docs).
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            sign(secret, query),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        let mut a = SimAccounts::default();
        a.open(
            "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            Credential::Hmac(secret.as_bytes().to_vec()),
            BTreeMap::new(),
        )
        .unwrap();
        let signed = format!(
            "{query}&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        let h = headers("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A");
        let (_, params) = a.authenticate(&h, &signed, "", 1499827319559).unwrap();
        assert_eq!(params["symbol"], "LTCBTC");
        // The same parameters split between the query and the body sign their concatenation.
        let (q, b) = query.split_at(query.find("quantity").unwrap());
        let sig = sign(secret, &format!("{}{}", q.trim_end_matches('&'), b));
        let q = format!("{}&signature={sig}", q.trim_end_matches('&'));
        assert!(a.authenticate(&h, &q, b, 1499827319559).is_ok());
    }

    #[test]
    fn refusals_carry_binance_codes() {
        let a = accounts();
        let now = 1_700_000_000_000i64;
        let q = |ts: i64, extra: &str| {
            let text = format!("{extra}timestamp={ts}");
            format!("{text}&signature={}", sign("secret", &text))
        };
        assert!(
            a.authenticate(&headers("key"), &q(now, ""), "", now)
                .is_ok()
        );
        let refused =
            |h: HeaderMap, query: String| code(a.authenticate(&h, &query, "", now).unwrap_err());
        assert_eq!(refused(headers("other"), q(now, "")), (401, -2015));
        assert_eq!(refused(headers("key"), q(now - 6_000, "")), (400, -1021));
        assert_eq!(refused(headers("key"), q(now + 2_000, "")), (400, -1021));
        assert!(
            a.authenticate(
                &headers("key"),
                &q(now - 6_000, "recvWindow=10000&"),
                "",
                now
            )
            .is_ok()
        );
        assert_eq!(
            refused(headers("key"), q(now, "recvWindow=70000&")),
            (400, -1131)
        );
        let tampered = q(now, "").replace(
            &format!("timestamp={now}"),
            &format!("timestamp={}", now + 1),
        );
        assert_eq!(refused(headers("key"), tampered), (400, -1022));
        assert_eq!(
            refused(headers("key"), format!("timestamp={now}")),
            (400, -1102)
        );
        assert_eq!(refused(headers("key"), "signature=00".into()), (400, -1102));
    }

    #[test]
    fn balances_parse_and_accounts_need_distinct_keys() {
        let b = parse_balances("usdt=10000, BTC=1.5").unwrap();
        assert_eq!(b["USDT"], 10_000.0);
        assert_eq!(b["BTC"], 1.5);
        assert!(parse_balances("USDT").is_err());
        assert!(parse_balances("USDT=-1").is_err());
        let mut a = accounts();
        let hmac = || Credential::Hmac(b"s".to_vec());
        assert!(a.open("key", hmac(), BTreeMap::new()).is_err());
        assert!(a.open("", hmac(), BTreeMap::new()).is_err());
        assert!(
            a.open("x", Credential::Hmac(Vec::new()), BTreeMap::new())
                .is_err()
        );
        assert!(Credential::ed25519_pem("not a key").is_err());
    }
}

#[cfg(test)]
mod ed25519_tests {
    use super::*;
    use base64::Engine as _;
    use ed25519_dalek::Signer;
    use ed25519_dalek::pkcs8::EncodePublicKey;

    #[test]
    fn ed25519_signatures_in_base64_are_checked_with_the_public_key() {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let pem = signing
            .verifying_key()
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap();
        let mut a = SimAccounts::default();
        a.open(
            "ed",
            Credential::ed25519_pem(&pem).unwrap(),
            BTreeMap::new(),
        )
        .unwrap();
        let now = 1_700_000_000_000i64;
        let text = format!("symbol=BTCUSDT&timestamp={now}");
        let sig = base64::engine::general_purpose::STANDARD
            .encode(signing.sign(text.as_bytes()).to_bytes());
        // Base64 travels URL-encoded, as clients send it.
        let encoded: String = form_urlencoded::byte_serialize(sig.as_bytes()).collect();
        let mut h = HeaderMap::new();
        h.insert("x-mbx-apikey", "ed".parse().unwrap());
        assert!(
            a.authenticate(&h, &format!("{text}&signature={encoded}"), "", now)
                .is_ok()
        );
        let other = base64::engine::general_purpose::STANDARD
            .encode(signing.sign(b"something else").to_bytes());
        let encoded: String = form_urlencoded::byte_serialize(other.as_bytes()).collect();
        assert!(
            a.authenticate(&h, &format!("{text}&signature={encoded}"), "", now)
                .is_err()
        );
    }
}
