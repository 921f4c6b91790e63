//! `GET /v1/venue`: where orders go, and for a live exchange its connection, rate-limit use,
//! reconciliation, and its balances beside the host's.

use super::{ApiError, AppState, Refusals};
use crate::execution::binance::VenueStatus;
use crate::model::Fixed;
use axum::Json;
use axum::extract::State;
use serde::Serialize;

/// One asset on the exchange and in the host's books.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BalanceCheck {
    /// The asset.
    pub asset: String,
    /// Free plus locked on the exchange.
    pub exchange: Fixed,
    /// Free plus locked over every deployment of the host.
    pub host: Fixed,
    /// Exchange minus host: what the host does not manage (or a discrepancy).
    pub difference: Fixed,
}

/// One live exchange account.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LiveAccount {
    /// The venue's name (`[venue] name`, or its leg's).
    pub name: String,
    /// Its state.
    pub status: VenueStatus,
}

/// The venue.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VenueView {
    /// `simulated` (paper trading on the matching simulator), `binance` or `routed` (orders
    /// routed between several Binance accounts).
    pub kind: String,
    /// The (default) live exchange's state (absent for the simulated venue).
    pub live: Option<VenueStatus>,
    /// Every live exchange account, the default one first (one unless routed).
    pub accounts: Vec<LiveAccount>,
    /// The exchanges' balances, summed over every account, against the host's, by asset (empty
    /// for the simulated venue).
    pub balances: Vec<BalanceCheck>,
}

/// The venue orders go to; for live exchanges, their state and balances beside the host's.
#[utoipa::path(get, path = "/v1/venue", tag = "execution",
    responses((status = 200, description = "The venue", body = VenueView), Refusals))]
pub(super) async fn venue(State(s): State<AppState>) -> Result<Json<VenueView>, ApiError> {
    if s.venue.is_empty() {
        return Ok(Json(VenueView {
            kind: "simulated".into(),
            live: None,
            accounts: Vec::new(),
            balances: Vec::new(),
        }));
    }
    let accounts: Vec<LiveAccount> = s
        .venue
        .iter()
        .map(|(name, shared)| LiveAccount {
            name: name.to_string(),
            status: shared.snapshot(),
        })
        .collect();
    let account = s.service.account(None).await?;
    // (exchange, host) totals by asset.
    let mut totals: std::collections::BTreeMap<String, (Fixed, Fixed)> = Default::default();
    for b in accounts.iter().flat_map(|a| &a.status.balances) {
        let t = totals.entry(b.asset.clone()).or_default();
        t.0 = t.0.saturating_add(b.free).saturating_add(b.locked);
    }
    for b in &account.balances {
        let t = totals.entry(b.asset.clone()).or_default();
        t.1 = t.1.saturating_add(b.free).saturating_add(b.locked);
    }
    let balances = totals
        .into_iter()
        .map(|(asset, (exchange, host))| BalanceCheck {
            asset,
            exchange,
            host,
            difference: exchange.saturating_sub(host),
        })
        .collect();
    Ok(Json(VenueView {
        kind: if accounts.len() > 1 {
            "routed"
        } else {
            "binance"
        }
        .into(),
        live: accounts.first().map(|a| a.status.clone()),
        accounts,
        balances,
    }))
}
