//! The client side of the control endpoint, used by `stratbox deploy`, `swap` and friends.

use super::{DeployRequest, KillRequest, RebalanceRequest, StateRequest, SwapRequest};
use crate::engine::{DeploymentInfo, RiskReport};
use crate::risk::Budget;
use crate::risk::TradingState;
use crate::sandbox::Grants;
use base64::Engine as _;

/// Talks to a running `stratbox serve`.
pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    token: String,
}

impl Client {
    /// A client for `endpoint` (e.g. `http://127.0.0.1:7400`) presenting `token`.
    pub fn new(endpoint: &str, token: &str) -> Self {
        Client {
            http: reqwest::Client::new(),
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        let response = request.bearer_auth(&self.token).send().await.map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the stratbox service at {}: {e}",
                self.endpoint
            )
        })?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
                .unwrap_or(body);
            anyhow::bail!("{status}: {message}");
        }
        Ok(serde_json::from_str(&body)?)
    }

    fn encode(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Lists deployments.
    pub async fn list(&self) -> anyhow::Result<Vec<DeploymentInfo>> {
        self.send(self.http.get(format!("{}/v1/deployments", self.endpoint)))
            .await
    }

    /// Deploys a component under `name` with its budget and sandbox grants.
    pub async fn deploy(
        &self,
        name: &str,
        component: &[u8],
        config: Option<String>,
        budget: Budget,
        grants: Grants,
    ) -> anyhow::Result<Vec<DeploymentInfo>> {
        let body = DeployRequest {
            name: name.to_string(),
            component: Self::encode(component),
            config,
            budget,
            grants,
        };
        self.send(
            self.http
                .post(format!("{}/v1/deployments", self.endpoint))
                .json(&body),
        )
        .await
    }

    /// Replaces the code of deployment `name`.
    pub async fn swap(
        &self,
        name: &str,
        component: &[u8],
        config: Option<String>,
    ) -> anyhow::Result<Vec<DeploymentInfo>> {
        let body = SwapRequest {
            component: Self::encode(component),
            config,
        };
        self.send(
            self.http
                .post(format!("{}/v1/deployments/{name}/swap", self.endpoint))
                .json(&body),
        )
        .await
    }

    /// `rollback`, `halt` or `resume` of deployment `name`.
    pub async fn action(&self, name: &str, action: &str) -> anyhow::Result<Vec<DeploymentInfo>> {
        self.send(
            self.http
                .post(format!("{}/v1/deployments/{name}/{action}", self.endpoint)),
        )
        .await
    }

    /// Removes a deployment (its orders cancelled, its history kept).
    pub async fn remove(&self, name: &str) -> anyhow::Result<Vec<DeploymentInfo>> {
        self.send(
            self.http
                .delete(format!("{}/v1/deployments/{name}", self.endpoint)),
        )
        .await
    }

    /// Creates a token with `scope` (and its own `rate_limit`, if given): its secret, shown
    /// once.
    pub async fn create_token(
        &self,
        name: &str,
        scope: super::Scope,
        rate_limit: Option<super::RateLimit>,
    ) -> anyhow::Result<super::CreatedToken> {
        let body = super::CreateTokenRequest {
            name: name.to_string(),
            scope,
            rate_limit,
        };
        self.send(
            self.http
                .post(format!("{}/v1/tokens", self.endpoint))
                .json(&body),
        )
        .await
    }

    /// Every token's name, scope and origin.
    pub async fn tokens(&self) -> anyhow::Result<Vec<super::TokenInfo>> {
        self.send(self.http.get(format!("{}/v1/tokens", self.endpoint)))
            .await
    }

    /// Revokes a token created through the API.
    pub async fn revoke_token(&self, name: &str) -> anyhow::Result<Vec<super::TokenInfo>> {
        self.send(
            self.http
                .delete(format!("{}/v1/tokens/{name}", self.endpoint)),
        )
        .await
    }

    /// The account's and each deployment's risk.
    pub async fn risk(&self) -> anyhow::Result<RiskReport> {
        self.send(self.http.get(format!("{}/v1/risk", self.endpoint)))
            .await
    }

    /// Sets deployment `name`'s trading state, or with no name the whole account's.
    pub async fn set_state(
        &self,
        name: Option<&str>,
        state: TradingState,
        reason: Option<String>,
    ) -> anyhow::Result<RiskReport> {
        let url = match name {
            Some(name) => format!("{}/v1/deployments/{name}/state", self.endpoint),
            None => format!("{}/v1/risk/state", self.endpoint),
        };
        self.send(self.http.post(url).json(&StateRequest { state, reason }))
            .await
    }

    /// The kill switch; with `flatten`, positions are closed within that slippage cap.
    pub async fn kill(
        &self,
        flatten: Option<f64>,
        reason: Option<String>,
    ) -> anyhow::Result<RiskReport> {
        self.send(
            self.http
                .post(format!("{}/v1/kill", self.endpoint))
                .json(&KillRequest { flatten, reason }),
        )
        .await
    }

    /// Moves deployment `name`'s holdings toward `weights` (symbol, fraction of its equity).
    pub async fn rebalance(
        &self,
        name: &str,
        weights: std::collections::BTreeMap<String, f64>,
    ) -> anyhow::Result<RiskReport> {
        self.send(
            self.http
                .post(format!("{}/v1/deployments/{name}/rebalance", self.endpoint))
                .json(&RebalanceRequest { weights }),
        )
        .await
    }
}
