//! A Binance account's API key and how its requests are signed: HMAC-SHA256 with a secret
//! (hex signatures) or Ed25519 with a private key (base64 signatures, and the only kind
//! `session.logon` accepts). Read from the environment or files, never printed: `Debug` shows
//! the key's first characters only.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

/// How requests are signed.
enum Signer {
    /// HMAC-SHA256 with this secret.
    Hmac(Vec<u8>),
    /// Ed25519 with this private key.
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// An API key and its signer.
pub struct Credentials {
    api_key: String,
    signer: Signer,
}

/// Credentials that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    /// An environment variable is not set (or empty).
    #[error("the environment variable {0} is not set")]
    Unset(String),
    /// A key file cannot be read.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Neither a secret nor a private key was given.
    #[error("give the API secret or an Ed25519 private key for {0}")]
    NoSigner(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: String = self.api_key.chars().take(4).collect();
        let kind = match self.signer {
            Signer::Hmac(_) => "HMAC-SHA256",
            Signer::Ed25519(_) => "Ed25519",
        };
        write!(f, "Credentials({shown}…, {kind})")
    }
}

fn env(name: &str) -> Result<String, CredentialsError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.trim().to_string())
        .ok_or_else(|| CredentialsError::Unset(name.to_string()))
}

impl Credentials {
    /// An HMAC-SHA256 account.
    pub fn hmac(api_key: &str, secret: &str) -> Self {
        Credentials {
            api_key: api_key.to_string(),
            signer: Signer::Hmac(secret.as_bytes().to_vec()),
        }
    }

    /// An Ed25519 account with the private key in PKCS#8 PEM (`openssl genpkey -algorithm
    /// ed25519` writes it).
    pub fn ed25519_pem(api_key: &str, pem: &str) -> Result<Self, String> {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
            .map_err(|e| format!("not an Ed25519 private key in PKCS#8 PEM: {e}"))?;
        Ok(Credentials {
            api_key: api_key.to_string(),
            signer: Signer::Ed25519(Box::new(key)),
        })
    }

    /// The key from the environment variable `key_env`, signed with the secret in `secret_env`
    /// or, when that is unset, the Ed25519 private key in the file `private_key_file`.
    pub fn from_env(
        key_env: &str,
        secret_env: &str,
        private_key_file: Option<&Path>,
    ) -> Result<Self, CredentialsError> {
        let api_key = env(key_env)?;
        if let Ok(secret) = env(secret_env) {
            return Ok(Self::hmac(&api_key, &secret));
        }
        let Some(path) = private_key_file else {
            return Err(CredentialsError::NoSigner(format!(
                "{key_env} (set {secret_env}, or give a private key file)"
            )));
        };
        let file_error = |message: String| CredentialsError::File {
            path: path.display().to_string(),
            message,
        };
        let pem = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        Self::ed25519_pem(&api_key, &pem).map_err(file_error)
    }

    /// The API key (`X-MBX-APIKEY`, `apiKey`).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Whether the key signs with Ed25519 (and so can log a WebSocket API session on).
    pub fn is_ed25519(&self) -> bool {
        matches!(self.signer, Signer::Ed25519(_))
    }

    /// The signature of `payload`: hex HMAC-SHA256, or base64 Ed25519.
    pub fn sign(&self, payload: &str) -> String {
        match &self.signer {
            Signer::Hmac(secret) => {
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
                mac.update(payload.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Signer::Ed25519(key) => {
                use base64::Engine as _;
                use ed25519_dalek::Signer as _;
                base64::engine::general_purpose::STANDARD
                    .encode(key.sign(payload.as_bytes()).to_bytes())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_signs_binance_documented_example() {
        let c = Credentials::hmac(
            "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
        );
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            c.sign(query),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        let shown = format!("{c:?}");
        assert_eq!(shown, "Credentials(vmPU…, HMAC-SHA256)");
        assert!(!shown.contains("NhqP"));
    }

    #[test]
    fn ed25519_keys_sign_what_their_public_key_verifies() {
        use ed25519_dalek::pkcs8::{EncodePrivateKey, spki::der::pem::LineEnding};
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let c = Credentials::ed25519_pem("k", &pem).unwrap();
        assert!(c.is_ed25519());
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(c.sign("apiKey=k&timestamp=1"))
            .unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&bytes).unwrap();
        assert!(
            key.verifying_key()
                .verify_strict(b"apiKey=k&timestamp=1", &signature)
                .is_ok()
        );
        assert!(Credentials::ed25519_pem("k", "not a key").is_err());
    }

    #[test]
    fn missing_keys_are_named() {
        let err =
            Credentials::from_env("STRATBOX_TEST_NO_SUCH_KEY", "STRATBOX_TEST_NO_SECRET", None)
                .unwrap_err();
        assert_eq!(
            err,
            CredentialsError::Unset("STRATBOX_TEST_NO_SUCH_KEY".into())
        );
    }
}
