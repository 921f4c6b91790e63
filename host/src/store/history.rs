//! What operators read back of the trading history: orders, fills and equity curves, newest
//! first, a page at a time, filtered by symbol and time.

use super::{FillRow, Store, StoreError, db};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// Most rows one page holds.
pub const MAX_PAGE: u32 = 1_000;

/// Which rows of a history list to read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only this symbol's rows.
    #[serde(default)]
    pub symbol: Option<String>,
    /// Only rows at or after this event time (ms since the epoch).
    #[serde(default)]
    pub since: Option<i64>,
    /// Only rows before this event time (ms since the epoch).
    #[serde(default)]
    pub until: Option<i64>,
    /// Rows in the page (1 to 1000; 100 when absent).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The cursor a previous page returned as `next`: only rows older than it.
    #[serde(default)]
    pub before: Option<i64>,
    /// For orders: `open`, `closed` or `all` (the default).
    #[serde(default)]
    #[param(pattern = "^(open|closed|all)$")]
    pub status: Option<String>,
}

impl HistoryQuery {
    /// The page size, or why it is unusable.
    pub fn page_size(&self) -> Result<u32, String> {
        match self.limit {
            None => Ok(100),
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            Some(n) => Err(format!("limit {n}: use 1 to {MAX_PAGE}")),
        }
    }

    /// Checks every filter, naming the first unusable one.
    pub fn validate(&self) -> Result<(), String> {
        self.page_size()?;
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since >= until
        {
            return Err(format!("since {since} is not before until {until}"));
        }
        match self.status.as_deref() {
            None | Some("open" | "closed" | "all") => Ok(()),
            Some(other) => Err(format!("status {other:?}: use open, closed or all")),
        }
    }
}

/// One page of a list, newest first.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass as `before` to read the next (older) page; none on the last.
    pub next: Option<i64>,
}

/// Cuts one extra row off a page read with `limit + 1`, which tells that more follow.
pub(super) fn page<T>(mut rows: Vec<(i64, T)>, limit: u32) -> Page<T> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|r| r.0) } else { None };
    Page {
        items: rows.into_iter().map(|r| r.1).collect(),
        next,
    }
}

/// An order as stored: its request and where it ended.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    /// Host order id.
    pub order_id: i64,
    /// The deployment.
    pub deployment: String,
    /// The symbol.
    pub symbol: String,
    /// What was asked (the order request as JSON; its `symbol` is the host's id).
    pub request: serde_json::Value,
    /// Where it is in its life.
    pub status: String,
    /// Base quantity filled.
    pub filled: String,
    /// Quote quantity filled.
    pub filled_quote: String,
    /// Fees paid.
    pub fees: String,
    /// Event time of submission.
    pub time_ms: i64,
}

/// One point of an equity curve.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// The bar's close time.
    pub time_ms: i64,
    /// Equity in the valuation asset.
    pub equity: f64,
    /// Fall from the highest equity before it, as a fraction.
    pub drawdown: f64,
}

impl Store {
    /// A deployment's fills, oldest first.
    pub async fn fills(&self, deployment: &str) -> Result<Vec<FillRow>, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, deployment, order_id, trade_id, quote_quantity, liquidity, symbol, side, price, quantity, fee, commission, commission_asset, venue_trade_id, time_ms FROM fills WHERE deployment = $1 ORDER BY id",
            )
            .bind(deployment)
            .fetch_all(pool)
            .await
            .map_err(db("reading fills"))?;
            rows.iter().map(|r| fill_row(r).map(|(_, f)| f)).collect()
        })
    }

    /// A page of fills of `deployment` (every deployment's for `None`), newest first.
    pub async fn fill_page(
        &self,
        deployment: Option<&str>,
        q: &HistoryQuery,
    ) -> Result<Page<FillRow>, StoreError> {
        let limit = q.page_size().map_err(StoreError::Schema)?;
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, deployment, order_id, trade_id, quote_quantity, liquidity, symbol, side, price, quantity, fee, commission, commission_asset, venue_trade_id, time_ms FROM fills
                 WHERE ($1 IS NULL OR deployment = $1) AND ($2 IS NULL OR symbol = $2)
                   AND ($3 IS NULL OR time_ms >= $3) AND ($4 IS NULL OR time_ms < $4) AND ($5 IS NULL OR id < $5)
                 ORDER BY id DESC LIMIT $6",
            )
            .bind(deployment)
            .bind(q.symbol.as_deref())
            .bind(q.since)
            .bind(q.until)
            .bind(q.before)
            .bind(i64::from(limit) + 1)
            .fetch_all(pool)
            .await
            .map_err(db("reading fills"))?;
            let rows = rows.iter().map(fill_row).collect::<Result<Vec<_>, _>>()?;
            Ok(page(rows, limit))
        })
    }

    /// A page of orders of `deployment` (every deployment's for `None`), newest first.
    pub async fn order_page(
        &self,
        deployment: Option<&str>,
        q: &HistoryQuery,
    ) -> Result<Page<OrderRow>, StoreError> {
        let limit = q.page_size().map_err(StoreError::Schema)?;
        macro_rules! orders_where {
            ($status:literal) => {
                concat!(
                    "SELECT order_id, deployment, symbol, request, status, filled, filled_quote, fees, time_ms FROM orders
                     WHERE ($1 IS NULL OR deployment = $1) AND ($2 IS NULL OR symbol = $2)
                       AND ($3 IS NULL OR time_ms >= $3) AND ($4 IS NULL OR time_ms < $4) AND ($5 IS NULL OR order_id < $5) ",
                    $status,
                    " ORDER BY order_id DESC LIMIT $6"
                )
            };
        }
        let sql = match q.status.as_deref() {
            Some("open") => {
                orders_where!("AND status NOT IN ('filled', 'cancelled', 'rejected', 'expired')")
            }
            Some("closed") => {
                orders_where!("AND status IN ('filled', 'cancelled', 'rejected', 'expired')")
            }
            _ => orders_where!(""),
        };
        on_pool!(self, |pool| {
            let rows = sqlx::query(sql)
                .bind(deployment)
                .bind(q.symbol.as_deref())
                .bind(q.since)
                .bind(q.until)
                .bind(q.before)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await
                .map_err(db("reading orders"))?;
            let rows = rows
                .iter()
                .map(|r| {
                    let get = db("reading an order");
                    let request: String = r.try_get("request").map_err(get)?;
                    let order = OrderRow {
                        order_id: r.try_get("order_id").map_err(db("reading an order"))?,
                        deployment: r.try_get("deployment").map_err(db("reading an order"))?,
                        symbol: r.try_get("symbol").map_err(db("reading an order"))?,
                        request: serde_json::from_str(&request).map_err(|e| {
                            StoreError::Corrupt {
                                table: "orders",
                                detail: format!("request is not JSON: {e}"),
                            }
                        })?,
                        status: r.try_get("status").map_err(db("reading an order"))?,
                        filled: r.try_get("filled").map_err(db("reading an order"))?,
                        filled_quote: r.try_get("filled_quote").map_err(db("reading an order"))?,
                        fees: r.try_get("fees").map_err(db("reading an order"))?,
                        time_ms: r.try_get("time_ms").map_err(db("reading an order"))?,
                    };
                    Ok((order.order_id, order))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(page(rows, limit))
        })
    }

    /// The equity curve of `deployment`, or with `None` of every deployment summed on each bar
    /// time (a deployment added later adds its equity from its first bar), oldest first: the
    /// last `limit` points in `since..until`. The account's drawdown is measured from its
    /// summed peak since the first point stored.
    pub async fn equity_curve(
        &self,
        deployment: Option<&str>,
        q: &HistoryQuery,
    ) -> Result<Page<EquityPoint>, StoreError> {
        let limit = q.page_size().map_err(StoreError::Schema)?;
        let rows: Vec<(i64, f64, f64)> = on_pool!(self, |pool| {
            match deployment {
                Some(name) => sqlx::query_as(
                    "SELECT time_ms, equity, drawdown FROM equity_curve
                     WHERE deployment = $1 AND ($2 IS NULL OR time_ms >= $2) AND ($3 IS NULL OR time_ms < $3)
                       AND ($4 IS NULL OR time_ms < $4)
                     ORDER BY time_ms DESC LIMIT $5",
                )
                .bind(name)
                .bind(q.since)
                .bind(q.until)
                .bind(q.before)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await,
                None => sqlx::query_as(
                    "SELECT time_ms, SUM(equity), CAST(0 AS DOUBLE PRECISION) FROM equity_curve
                     WHERE ($1 IS NULL OR time_ms < $1) AND ($2 IS NULL OR time_ms < $2)
                     GROUP BY time_ms ORDER BY time_ms",
                )
                .bind(q.until)
                .bind(q.before)
                .fetch_all(pool)
                .await,
            }
        })
        .map_err(db("reading an equity curve"))?;
        let rows: Vec<(i64, EquityPoint)> = match deployment {
            Some(_) => rows
                .into_iter()
                .map(|(time_ms, equity, drawdown)| {
                    (
                        time_ms,
                        EquityPoint {
                            time_ms,
                            equity,
                            drawdown,
                        },
                    )
                })
                .collect(),
            None => {
                let mut peak = f64::MIN;
                let mut points: Vec<(i64, EquityPoint)> = rows
                    .into_iter()
                    .map(|(time_ms, equity, _)| {
                        peak = peak.max(equity);
                        let drawdown = if peak > 0.0 { 1.0 - equity / peak } else { 0.0 };
                        (
                            time_ms,
                            EquityPoint {
                                time_ms,
                                equity,
                                drawdown,
                            },
                        )
                    })
                    .filter(|(t, _)| q.since.is_none_or(|s| *t >= s))
                    .collect();
                points.reverse();
                points.truncate(limit as usize + 1);
                points
            }
        };
        let mut curve = page(rows, limit);
        curve.items.reverse();
        Ok(curve)
    }
}

fn fill_row<R: Row>(r: &R) -> Result<(i64, FillRow), StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let get = |what| db(what);
    Ok((
        r.try_get("id").map_err(get("reading a fill"))?,
        FillRow {
            deployment: r.try_get("deployment").map_err(get("reading a fill"))?,
            order_id: r.try_get("order_id").map_err(get("reading a fill"))?,
            trade_id: r.try_get("trade_id").map_err(get("reading a fill"))?,
            quote_quantity: r.try_get("quote_quantity").map_err(get("reading a fill"))?,
            liquidity: r.try_get("liquidity").map_err(get("reading a fill"))?,
            symbol: r.try_get("symbol").map_err(get("reading a fill"))?,
            side: r.try_get("side").map_err(get("reading a fill"))?,
            price: r.try_get("price").map_err(get("reading a fill"))?,
            quantity: r.try_get("quantity").map_err(get("reading a fill"))?,
            fee: r.try_get("fee").map_err(get("reading a fill"))?,
            commission: r.try_get("commission").map_err(get("reading a fill"))?,
            commission_asset: r
                .try_get("commission_asset")
                .map_err(get("reading a fill"))?,
            venue_trade_id: r.try_get("venue_trade_id").map_err(get("reading a fill"))?,
            time_ms: r.try_get("time_ms").map_err(get("reading a fill"))?,
        },
    ))
}
