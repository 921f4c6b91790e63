//! `GET /v1/cost`: the pre-trade cost of an order from the book the engine keeps now.

use super::{ApiError, AppState, ErrorBody, Refusals};
use crate::engine::service::CostQuery;
use crate::execution::cost::{CostError, CostEstimate};
use crate::model::{Amount, Fixed, Side};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;

/// The order to estimate.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct CostParams {
    /// The symbol, e.g. `BTCUSDT`.
    symbol: String,
    /// `buy` or `sell`.
    side: String,
    /// Base quantity (give this or `quote_amount`).
    quantity: Option<f64>,
    /// Quote amount to spend or receive.
    quote_amount: Option<f64>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

impl CostParams {
    fn query(self) -> Result<CostQuery, ApiError> {
        let side = match self.side.to_ascii_lowercase().as_str() {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return Err(bad(format!("side {other:?}: use buy or sell"))),
        };
        let positive = |name: &str, x: f64| {
            Fixed::from_f64(x)
                .ok()
                .filter(|f| f.is_positive())
                .ok_or_else(|| bad(format!("{name} {x} must be a positive amount")))
        };
        let amount = match (self.quantity, self.quote_amount) {
            (Some(q), None) => Amount::Base(positive("quantity", q)?),
            (None, Some(q)) => Amount::Quote(positive("quote_amount", q)?),
            _ => return Err(bad("give one of quantity and quote_amount")),
        };
        Ok(CostQuery {
            symbol: self.symbol,
            side,
            amount,
        })
    }
}

/// What a market order would cost taking the book now: average price, impact against the mid,
/// spread, taker fee, against the maker fee of resting at the touch.
#[utoipa::path(get, path = "/v1/cost", tag = "execution", params(CostParams),
    responses(
        (status = 200, description = "The estimate", body = CostEstimate),
        (status = 400, description = "The order is malformed", body = ErrorBody),
        (status = 404, description = "Unknown symbol", body = ErrorBody),
        (status = 409, description = "No book of the symbol yet", body = ErrorBody),
        Refusals))]
pub(super) async fn estimate(
    State(s): State<AppState>,
    q: Result<Query<CostParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CostEstimate>, ApiError> {
    let Query(params) = q.map_err(|e| bad(e.body_text()))?;
    match s.service.cost(params.query()?).await? {
        Ok(estimate) => Ok(Json(estimate)),
        Err(e @ CostError::UnknownSymbol(_)) => Err(ApiError(StatusCode::NOT_FOUND, e.to_string())),
        Err(e @ CostError::NoBook(_)) => Err(ApiError(StatusCode::CONFLICT, e.to_string())),
    }
}
