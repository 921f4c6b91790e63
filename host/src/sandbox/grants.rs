//! What an operator lets one deployment's guest reach beyond the strategy contract. A guest
//! gets nothing by default: no files, no environment, no network, clocks frozen at zero. A
//! deployment declares its grants when it is deployed; they belong to the deployment, so every
//! version of it (hot swaps, rollbacks, restarts) runs under the same ones.
//!
//! The CPU deadline bounds running guest code, not a host call it waits in: a granted guest
//! that connects to an address that never answers, or reads a socket or a FIFO that stays
//! silent, holds the engine thread until the operating system gives up. Grant only addresses
//! and files that answer.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// One host directory a guest may open.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirGrant {
    /// The directory on the host.
    #[schema(value_type = String)]
    pub host: PathBuf,
    /// Where the guest sees it, an absolute path such as `/data`.
    pub guest: String,
    /// The guest may also create, write and remove files in it.
    #[serde(default)]
    pub writable: bool,
}

/// A deployment's grants; the default grants nothing.
#[derive(utoipa::ToSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Grants {
    /// The real wall and monotonic clocks (otherwise both read zero; event time is always
    /// available through the contract's `clock` interface).
    pub wall_clock: bool,
    /// Environment variables the guest sees, and only these.
    pub env: BTreeMap<String, String>,
    /// Host directories the guest may open.
    pub dirs: Vec<DirGrant>,
    /// Addresses (`ip:port`) the guest may open TCP connections to; nothing else on the
    /// network (no listening, no UDP, no name lookup).
    pub connect: Vec<String>,
}

impl Grants {
    /// Reads grants from TOML (or JSON, when the text starts with `{`), host directories
    /// relative to `base`, and checks them.
    pub fn parse(text: &str, base: &std::path::Path) -> Result<Self, String> {
        let mut grants: Grants = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        } else {
            toml::from_str(text).map_err(|e| e.to_string())?
        };
        grants.resolve(base);
        grants.check()?;
        Ok(grants)
    }

    /// Makes relative host directories relative to `base` (the folder of the file they were
    /// read from): what is stored and checked is absolute.
    pub fn resolve(&mut self, base: &std::path::Path) {
        for dir in &mut self.dirs {
            if dir.host.is_relative() {
                dir.host = base.join(&dir.host);
            }
        }
    }

    /// Checks the grants, naming the first one that cannot be given.
    pub fn check(&self) -> Result<(), String> {
        for key in self.env.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return Err(format!(
                    "grants.env: {key:?} is not a variable name (non-empty, no '=' or NUL)"
                ));
            }
        }
        for dir in &self.dirs {
            if !dir.host.is_absolute() {
                return Err(format!(
                    "grants.dirs: host path {} must be absolute",
                    dir.host.display()
                ));
            }
            if !dir.host.is_dir() {
                return Err(format!(
                    "grants.dirs: {} is not a directory on the host",
                    dir.host.display()
                ));
            }
            if !dir.guest.starts_with('/') {
                return Err(format!(
                    "grants.dirs: guest path {:?} must be absolute, e.g. \"/data\"",
                    dir.guest
                ));
            }
        }
        self.connect_addrs().map(|_| ())
    }

    fn connect_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        self.connect
            .iter()
            .map(|a| {
                a.parse::<SocketAddr>().map_err(|_| {
                    format!("grants.connect: {a:?} is not an address such as 127.0.0.1:8080")
                })
            })
            .collect()
    }

    /// Opens what is granted on `wasi`, which starts with nothing.
    pub(crate) fn apply(&self, wasi: &mut WasiCtxBuilder) -> Result<(), String> {
        for (key, value) in &self.env {
            wasi.env(key, value);
        }
        for dir in &self.dirs {
            let perms = if dir.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            wasi.preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| format!("grants.dirs: {}: {e}", dir.host.display()))?;
        }
        let allowed: Arc<[SocketAddr]> = self.connect_addrs()?.into();
        if !allowed.is_empty() {
            wasi.allow_tcp(true).socket_addr_check(move |addr, usage| {
                let permitted = match usage {
                    SocketAddrUse::TcpConnect => allowed.contains(&addr),
                    // A connect first binds implicitly to the wildcard address.
                    SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
                    _ => false,
                };
                Box::pin(async move { permitted })
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_grants_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let ok = Grants {
            env: [("MODE".to_string(), "paper".to_string())].into(),
            dirs: vec![DirGrant {
                host: dir.path().to_path_buf(),
                guest: "/data".into(),
                writable: false,
            }],
            connect: vec!["127.0.0.1:8080".into()],
            ..Grants::default()
        };
        assert_eq!(ok.check(), Ok(()));
        let mut bad = ok.clone();
        bad.env.insert("A=B".into(), "x".into());
        assert!(bad.check().unwrap_err().contains("\"A=B\""));
        let mut bad = ok.clone();
        bad.dirs[0].host = dir.path().join("missing");
        assert!(bad.check().unwrap_err().contains("not a directory"));
        let mut bad = ok.clone();
        bad.dirs[0].host = "data".into();
        assert!(bad.check().unwrap_err().contains("must be absolute"));
        bad.resolve(dir.path());
        assert_eq!(bad.dirs[0].host, dir.path().join("data"));
        let mut bad = ok.clone();
        bad.dirs[0].guest = "data".into();
        assert!(bad.check().unwrap_err().contains("must be absolute"));
        let mut bad = ok;
        bad.connect.push("localhost".into());
        assert!(bad.check().unwrap_err().contains("\"localhost\""));
    }
}
