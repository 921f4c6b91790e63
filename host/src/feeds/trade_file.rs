//! Recorded trade files: the shared data's `timestamp_ms,trade_id,type,side,price,amount,cost`
//! (freqtrade's trade export), replayed by the exchange simulator and by backtests.

use crate::model::Fixed;

/// A recorded trade (or one the simulator made).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecordedTrade {
    /// Trade id.
    pub id: u64,
    /// Price.
    pub price: Fixed,
    /// Base quantity.
    pub quantity: Fixed,
    /// Trade time, ms.
    pub time: i64,
    /// The taker sold.
    pub buyer_is_maker: bool,
}

/// Reads recorded trades in the shared data's format,
/// `timestamp_ms,trade_id,type,side,price,amount,cost` (side is the taker's), in time order.
pub fn read_trades(path: &std::path::Path) -> Result<Vec<RecordedTrade>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut out: Vec<RecordedTrade> = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = |what: &str| format!("{shown}, line {}: {what}", i + 1);
        if f.len() < 6 {
            return Err(bad(
                "expected timestamp_ms,trade_id,type,side,price,amount,cost",
            ));
        }
        let trade = RecordedTrade {
            time: f[0].parse().map_err(|_| bad("timestamp"))?,
            id: f[1].parse().map_err(|_| bad("trade_id"))?,
            buyer_is_maker: match f[3] {
                "sell" => true,
                "buy" => false,
                _ => return Err(bad("side must be buy or sell")),
            },
            price: f[4].parse().map_err(|_| bad("price"))?,
            quantity: f[5].parse().map_err(|_| bad("amount"))?,
        };
        if out.last().is_some_and(|p| p.time > trade.time) {
            return Err(bad("trades out of time order"));
        }
        out.push(trade);
    }
    Ok(out)
}
