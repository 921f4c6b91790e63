//! Submits the orders of its config on the bar (or book update) it names, and records every
//! order update it receives, so tests can follow an order's life through the contract.
//!
//! Config: `{"orders": "limit buy 1 100; market sell 0.5; cancel 0", "at": 1}` — actions separated
//! by `;`, run in order on the `at`-th event (bars and book updates count; default 1), and on
//! every event after it too with `"every": 1` (for latency benchmarks):
//! - `market|quote|limit|maker|stop|stoplimit|tp|tplimit <buy|sell> <qty> [price] [limit]`
//!   (`quote` is a market order for a quote amount; `stop`/`tp` take the stop price, the limit
//!   variants the stop then the limit price), followed by flags: `ioc`, `fok`, `reduce`,
//!   `iceberg=Q`, `trail=BPS` (trailing from the stop price) or `trailnow=BPS` (trailing at once);
//! - `cancel <i>`: cancels the order the i-th action submitted;
//! - `cancelall`: cancels every open order of the symbol;
//! - `replace <i> <order...>` / `replaceany <i> <order...>`: cancel-replace of the i-th order;
//! - `algo <twap|pov|peg> <buy|sell> <qty> <duration ms> <slices|rate|ticks> [passive|aggressive]
//!   [bps=N]` (the slippage cap):
//!   starts a parent order (contract 0.2.2); after every event its status is in `algo<i>` as
//!   `<state> <filled> <children> <shortfall bps>`;
//! - `stopalgo <i>`: stops the parent the i-th action started;
//! - `at <venue> <order...>` / `algoat <venue> <algo...>`: an order, or a parent whose children
//!   all go, to the venue named (contract 0.2.4); `venues`: `ok` and the host's venues' names.
//!
//! State: `submit<i>` holds `ok <order id>` or `err <code>: <message>` for each action; `log`
//! holds one line per update: `<order id> <execution> <status> [<code>] [<liquidity> <qty>@<price>
//! fee <fee>]`, and `updates` counts them.

use stratbox_guest::execution::{self, AlgoStyle, ParentOrder, Urgency};
use stratbox_guest::prelude::*;
use stratbox_guest::{Amount, OrderRejected, OrderType, Trigger};

struct Probe {
    actions: Vec<String>,
    at: u64,
    every: bool,
    seen: u64,
    ids: Vec<Option<u64>>,
    /// Parents started: (action index, id).
    algos: Vec<(usize, u64)>,
}

fn parse_algo(symbol: u32, words: &[&str]) -> Result<ParentOrder, String> {
    let [style, side, qty, duration, param, rest @ ..] = words else {
        return Err(format!(
            "algo needs a style, side, quantity, duration and parameter: {words:?}"
        ));
    };
    let num = |s: &str| s.parse::<f64>().map_err(|e| format!("{s}: {e}"));
    let style = match *style {
        "twap" => AlgoStyle::Twap(num(param)? as u32),
        "pov" => AlgoStyle::Pov(num(param)?),
        "peg" => AlgoStyle::Peg(num(param)? as u32),
        other => return Err(format!("algo style {other}")),
    };
    Ok(ParentOrder {
        symbol,
        side: if *side == "sell" {
            Side::Sell
        } else {
            Side::Buy
        },
        quantity: num(qty)?,
        style,
        duration_ms: num(duration)? as i64,
        limit_price: None,
        max_slippage_bps: rest
            .iter()
            .find_map(|w| w.strip_prefix("bps="))
            .map(num)
            .transpose()?,
        urgency: if rest.contains(&"passive") {
            Urgency::Passive
        } else if rest.contains(&"aggressive") {
            Urgency::Aggressive
        } else {
            Urgency::Neutral
        },
    })
}

fn parse_order(symbol: u32, words: &[&str]) -> Result<Order, String> {
    let [kind, side, qty, rest @ ..] = words else {
        return Err(format!(
            "an order needs a kind, side and quantity: {words:?}"
        ));
    };
    let side = match *side {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        other => return Err(format!("side {other}")),
    };
    let num = |s: &str| s.parse::<f64>().map_err(|e| format!("{s}: {e}"));
    let qty = num(qty)?;
    let (prices, flags): (Vec<&str>, Vec<&str>) =
        rest.iter().partition(|w| w.parse::<f64>().is_ok());
    let price = |i: usize| -> Result<f64, String> {
        prices
            .get(i)
            .ok_or(format!("{kind} needs a price"))
            .and_then(|p| num(p))
    };
    let mut order = match *kind {
        "market" => Order::market(symbol, side, qty),
        "quote" => Order::market_quote(symbol, side, qty),
        "limit" => Order::limit(symbol, side, qty, price(0)?),
        "maker" => Order::limit_maker(symbol, side, qty, price(0)?),
        "stop" => Order::stop_loss(symbol, side, qty, price(0)?),
        "stoplimit" => Order::stop_loss_limit(symbol, side, qty, price(0)?, price(1)?),
        "tp" => Order::take_profit(symbol, side, qty, price(0)?),
        "tplimit" => Order::take_profit_limit(symbol, side, qty, price(0)?, price(1)?),
        other => return Err(format!("order kind {other}")),
    };
    for flag in flags {
        order = match flag.split_once('=') {
            None if flag == "ioc" => order.ioc(),
            None if flag == "fok" => order.fok(),
            None if flag == "reduce" => order.reduce_only(),
            Some(("iceberg", q)) => order.iceberg(num(q)?),
            Some(("trail", bps)) => order.trailing(num(bps)? as u32),
            Some(("trailnow", bps)) => {
                let bps = num(bps)? as u32;
                match *kind {
                    "stop" => Order::trailing_stop_loss(symbol, side, qty, bps),
                    "tp" => Order::trailing_take_profit(symbol, side, qty, bps),
                    other => return Err(format!("trailnow is for stop and tp, not {other}")),
                }
            }
            _ => return Err(format!("flag {flag}")),
        };
    }
    Ok(order)
}

/// A value's debug form without type paths: `Filter(LotSize)`, not
/// `RejectCode::Filter(ExchangeFilter::LotSize)`.
fn name(x: impl std::fmt::Debug) -> String {
    let text = format!("{x:?}");
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            word.clear();
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out + &word
}

fn outcome(result: Result<u64, OrderRejected>) -> (Option<u64>, String) {
    match result {
        Ok(id) => (Some(id), format!("ok {id}")),
        Err(r) => (None, format!("err {}: {}", name(r.code), r.message)),
    }
}

impl Probe {
    fn run(&mut self, symbol: u32) {
        // Indices name this run's actions (every event's run has its own orders).
        let base = self.ids.len();
        let actions = if self.every {
            self.actions.clone()
        } else {
            std::mem::take(&mut self.actions)
        };
        for (i, action) in actions.iter().enumerate() {
            let words: Vec<&str> = action.split_whitespace().collect();
            let index = |w: Option<&&str>| -> Option<u64> {
                let i: usize = w?.parse().ok()?;
                *self.ids.get(base + i)?
            };
            let (id, text) = match words.as_slice() {
                ["cancel", which] => match index(Some(which)) {
                    Some(id) => match orders::cancel(id) {
                        Ok(()) => (Some(id), format!("ok {id}")),
                        Err(r) => (None, format!("err {}: {}", name(r.code), r.message)),
                    },
                    None => (None, "err no such order".into()),
                },
                ["venues"] => (None, format!("ok {}", orders::venues().join(","))),
                ["at", venue, order @ ..] => match parse_order(symbol, order) {
                    Ok(order) => outcome(order.submit_at(venue)),
                    Err(e) => (None, format!("err {e}")),
                },
                [verb @ ("algo" | "algoat"), rest @ ..] => match parse_algo(
                    symbol,
                    if *verb == "algo" {
                        rest
                    } else {
                        &rest[1.min(rest.len())..]
                    },
                ) {
                    Ok(order) => match if *verb == "algo" {
                        execution::start(&order)
                    } else {
                        execution::start_at(rest[0], &order)
                    } {
                        Ok(id) => {
                            self.algos.push((i, id));
                            (Some(id), format!("ok {id}"))
                        }
                        Err(e) => (None, format!("err {e}")),
                    },
                    Err(e) => (None, format!("err {e}")),
                },
                ["stopalgo", which] => match index(Some(which)) {
                    Some(id) => (Some(id), format!("ok {}", execution::cancel(id))),
                    None => (None, "err no such algo".into()),
                },
                ["cancelall"] => {
                    let ids = orders::cancel_all(symbol);
                    (None, format!("ok {ids:?}"))
                }
                [verb @ ("replace" | "replaceany"), which, order @ ..] => {
                    match (index(Some(which)), parse_order(symbol, order)) {
                        (Some(old), Ok(order)) => outcome(if *verb == "replace" {
                            order.replace(old)
                        } else {
                            order.replace_anyway(old)
                        }),
                        (None, Ok(order)) => outcome(order.replace_anyway(u64::MAX)),
                        (_, Err(e)) => (None, format!("err {e}")),
                    }
                }
                order => match parse_order(symbol, order) {
                    Ok(order) => outcome(order.submit()),
                    Err(e) => (None, format!("err {e}")),
                },
            };
            self.ids.push(id);
            let _ = state::set(&format!("submit{i}"), text.as_bytes());
        }
    }

    fn event(&mut self, symbol: u32) {
        for &(i, id) in &self.algos {
            if let Some(s) = execution::status(id) {
                let line = format!(
                    "{} {} {} {}",
                    name(s.state),
                    s.filled,
                    s.children,
                    s.shortfall_bps.map_or("-".into(), |x| format!("{x:.4}"))
                );
                let _ = state::set(&format!("algo{i}"), line.as_bytes());
            }
        }
        self.seen += 1;
        if self.seen == self.at || (self.every && self.seen > self.at) {
            self.run(symbol);
        }
    }
}

impl Strategy for Probe {
    fn init(cfg: &str) -> Result<Self, String> {
        let list = config::string(cfg, "orders").ok_or("config needs \"orders\"")?;
        Ok(Probe {
            actions: list
                .split(';')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
            at: config::number(cfg, "at").unwrap_or(1.0) as u64,
            every: config::number(cfg, "every").unwrap_or(0.0) > 0.0,
            seen: 0,
            ids: Vec::new(),
            algos: Vec::new(),
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        self.event(bar.symbol);
    }

    fn on_book(&mut self, top: &TopOfBook) {
        self.event(top.symbol);
    }

    fn on_order_update(&mut self, u: &OrderUpdate) {
        let mut line = format!(
            "{} {} {}",
            u.order_id,
            name(u.execution_type),
            name(u.status)
        );
        if let Some(r) = &u.reject {
            line.push_str(&format!(" {}", name(r.code)));
        }
        if let Some(e) = &u.execution {
            line.push_str(&format!(
                " {} {}@{} fee {}",
                name(e.liquidity),
                e.quantity,
                e.price,
                e.fee
            ));
        }
        // Checks that every update describes the order as it was asked for.
        let kind = match u.order_type {
            OrderType::Market => "market",
            OrderType::Limit(_) => "limit",
            OrderType::LimitMaker(_) => "maker",
            OrderType::StopLoss(Trigger::Trailing(_)) => "trailing-stop",
            OrderType::StopLoss(_) => "stop",
            OrderType::StopLossLimit(_) => "stoplimit",
            OrderType::TakeProfit(_) => "tp",
            OrderType::TakeProfitLimit(_) => "tplimit",
        };
        let amount = match u.amount {
            Amount::Base(q) => format!("{q}"),
            Amount::Quote(q) => format!("quote {q}"),
        };
        line.push_str(&format!(" ({kind} {amount})"));
        let mut log = state::get("log").unwrap_or_default();
        log.extend_from_slice(line.as_bytes());
        log.push(b'\n');
        let _ = state::set("log", &log);
        let _ = state::set_u64("updates", state::get_u64("updates").unwrap_or(0) + 1);
    }
}

export_strategy!(Probe);
