//! One trade stream's sequence. Binance numbers each symbol's trades (and aggregate trades)
//! consecutively, so a repeat (two connections overlapping) and a gap (a lost connection, a
//! full queue) are both visible. Repeats are dropped; a gap is fetched over REST in the
//! background while the trades after it wait, so the consumer gets every trade once and in
//! order without holding up bars and books. Gaps found while one is fetched queue behind it
//! (each fetched in turn), up to [`MAX_GAPS`].

use std::collections::VecDeque;

use super::Stamp;
use crate::feeds::binance::rest::RestClient;
use crate::feeds::binance::types::TradeTick;

/// Most trades fetched to fill one gap.
const MAX_FILL: u64 = 10_000;
/// Trades a REST page holds (Binance's limit).
const PER_PAGE: u64 = 1000;
/// Most trades waiting for gaps to be filled: past this every waiting gap is given up.
const MAX_WAITING: usize = 50_000;
/// Most gaps waiting to be fetched at once: a gap found past this is not fetched.
const MAX_GAPS: usize = 16;

/// A gap to fetch: trade ids `from..to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Gap {
    /// The first missing id.
    pub from: u64,
    /// The id of the trade after the gap.
    pub to: u64,
}

/// What became of trades handed to a [`TradeSequence`].
#[derive(Debug, Default, PartialEq)]
pub(super) struct Outcome {
    /// Trades to deliver now, in order.
    pub deliver: Vec<(TradeTick, Stamp)>,
    /// A gap to fetch (then hand the result to [`TradeSequence::filled`]).
    pub fetch: Option<Gap>,
    /// Trades fetched into a gap.
    pub filled: u64,
    /// Trades skipped that will not be delivered.
    pub missed: u64,
}

/// A gap being (or to be) fetched, and the trades that came after it, up to the next gap.
#[derive(Debug)]
struct Filling {
    gap: Gap,
    waiting: Vec<(TradeTick, Stamp)>,
}

/// The trades of one stream kind delivered so far, and the gaps being filled: the first is
/// being fetched, the others wait their turn.
#[derive(Debug, Default)]
pub(super) struct TradeSequence {
    last: Option<u64>,
    filling: VecDeque<Filling>,
    /// Trades waiting behind all the gaps.
    waiting: usize,
}

impl TradeSequence {
    /// Takes a trade from the stream.
    pub fn accept(&mut self, tick: TradeTick, stamp: Stamp) -> Outcome {
        let mut outcome = Outcome::default();
        let id = tick.id;
        match self.last {
            Some(last) if id <= last => return outcome, // seen on an overlapping connection
            Some(last) if id > last + 1 => {
                if self.filling.len() >= MAX_GAPS || id - last - 1 > MAX_FILL {
                    // Too many gaps at once, or one too long (a long outage, a stream added
                    // again): not fetched.
                    outcome.missed = id - last - 1;
                } else {
                    let gap = Gap {
                        from: last + 1,
                        to: id,
                    };
                    if self.filling.is_empty() {
                        outcome.fetch = Some(gap);
                    }
                    self.filling.push_back(Filling {
                        gap,
                        waiting: Vec::new(),
                    });
                }
            }
            _ => {}
        }
        self.last = Some(id);
        if self.waiting >= MAX_WAITING {
            // Waited too long: give every gap up and go on.
            for filling in std::mem::take(&mut self.filling) {
                outcome.missed += filling.gap.to - filling.gap.from;
                outcome.deliver.extend(filling.waiting);
            }
            self.waiting = 0;
        }
        match self.filling.back_mut() {
            Some(filling) => {
                filling.waiting.push((tick, stamp));
                self.waiting += 1;
            }
            None => outcome.deliver.push((tick, stamp)),
        }
        outcome
    }

    /// Takes the trades fetched for `gap` (stamped `receive_ms`): they, then the trades that
    /// waited for them up to the next gap, are delivered, and the next gap is to be fetched. A
    /// gap given up already is ignored.
    pub fn filled(&mut self, gap: Gap, fetched: Vec<TradeTick>, receive_ms: i64) -> Outcome {
        let mut outcome = Outcome::default();
        if self.filling.front().is_none_or(|f| f.gap != gap) {
            return outcome;
        }
        let Filling { gap, waiting } = self.filling.pop_front().expect("filling");
        self.waiting -= waiting.len();
        outcome.fetch = self.filling.front().map(|f| f.gap);
        let mut next = gap.from;
        for tick in fetched {
            if tick.id < next || tick.id >= gap.to {
                continue;
            }
            next = tick.id + 1;
            outcome.filled += 1;
            let stamp = Stamp {
                exchange_ms: tick.time,
                receive_ms,
            };
            outcome.deliver.push((tick, stamp));
        }
        outcome.missed = gap.to - gap.from - outcome.filled;
        outcome.deliver.extend(waiting);
        outcome
    }
}

/// Fetches the trades of `gap` (`raw`: single trades, else aggregate ones), up to
/// [`MAX_FILL`] of them, in pages; stops at the first failure with what it has.
pub(super) async fn fetch(rest: &RestClient, symbol: &str, raw: bool, gap: Gap) -> Vec<TradeTick> {
    let mut trades: Vec<TradeTick> = Vec::new();
    let mut next = gap.from;
    while next < gap.to && next - gap.from < MAX_FILL {
        let limit = (gap.to - next)
            .min(PER_PAGE)
            .min(MAX_FILL - (next - gap.from)) as u32;
        let page = if raw {
            rest.historical_trades(symbol, next, limit).await
        } else {
            rest.agg_trades(symbol, Some(next), limit).await
        };
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(%symbol, "trades {next}..{} skipped by the stream could not be fetched: {e}", gap.to);
                break;
            }
        };
        let Some(last) = page.iter().map(|t| t.id).max().filter(|&id| id >= next) else {
            break; // the exchange no longer has them
        };
        next = last + 1;
        trades.extend(page);
    }
    trades
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Fixed;

    fn trade(id: u64) -> (TradeTick, Stamp) {
        let tick = TradeTick {
            id,
            price: Fixed::from_int(100),
            quantity: Fixed::from_int(1),
            time: id as i64,
            buyer_is_maker: false,
        };
        let stamp = Stamp {
            exchange_ms: id as i64,
            receive_ms: id as i64,
        };
        (tick, stamp)
    }

    fn ids(outcome: &Outcome) -> Vec<u64> {
        outcome.deliver.iter().map(|(t, _)| t.id).collect()
    }

    #[test]
    fn repeats_are_dropped_and_a_gap_waits_for_its_trades() {
        let mut seq = TradeSequence::default();
        for id in [1, 2, 2, 1, 3] {
            let (t, s) = trade(id);
            seq.accept(t, s);
        }
        let (t, s) = trade(7);
        let gap = seq.accept(t, s);
        assert_eq!(gap.fetch, Some(Gap { from: 4, to: 7 }));
        assert!(gap.deliver.is_empty(), "trade 7 waits for 4..7");
        let (t, s) = trade(8);
        assert!(seq.accept(t, s).deliver.is_empty());
        let (t, s) = trade(8);
        assert!(
            seq.accept(t, s).deliver.is_empty(),
            "a repeat while waiting"
        );
        // The exchange answers with one more than asked and one out of place.
        let fetched = [4, 6, 5, 7].map(|id| trade(id).0).to_vec();
        let done = seq.filled(Gap { from: 3, to: 7 }, fetched.clone(), 99);
        assert_eq!(done, Outcome::default(), "the result of another gap");
        let done = seq.filled(Gap { from: 4, to: 7 }, fetched, 99);
        assert_eq!(ids(&done), [4, 6, 7, 8]);
        assert_eq!((done.filled, done.missed), (2, 1));
        let (t, s) = trade(9);
        assert_eq!(ids(&seq.accept(t, s)), [9]);
    }

    #[test]
    fn a_gap_that_waits_too_long_is_given_up() {
        let mut seq = TradeSequence::default();
        let (t, s) = trade(1);
        seq.accept(t, s);
        let (t, s) = trade(11);
        assert!(seq.accept(t, s).fetch.is_some());
        let mut delivered = Vec::new();
        let mut missed = 0;
        for id in 12..12 + MAX_WAITING as u64 {
            let (t, s) = trade(id);
            let outcome = seq.accept(t, s);
            delivered.extend(ids(&outcome));
            missed += outcome.missed;
        }
        assert_eq!(missed, 9);
        assert_eq!(delivered.len(), MAX_WAITING + 1, "11 and every one after");
        assert_eq!(delivered[0], 11);
        let late = seq.filled(Gap { from: 2, to: 11 }, vec![trade(2).0], 0);
        assert_eq!(late, Outcome::default(), "too late");
        // A new gap is not taken for the old one's late answer.
        let last = 11 + MAX_WAITING as u64;
        let (t, s) = trade(last + 3);
        assert_eq!(
            seq.accept(t, s).fetch,
            Some(Gap {
                from: last + 1,
                to: last + 3
            })
        );
        assert_eq!(
            seq.filled(Gap { from: 2, to: 11 }, vec![], 0),
            Outcome::default()
        );
        let done = seq.filled(
            Gap {
                from: last + 1,
                to: last + 3,
            },
            vec![],
            0,
        );
        assert_eq!((ids(&done), done.missed), (vec![last + 3], 2));
    }

    #[test]
    fn gaps_found_while_one_is_fetched_are_fetched_in_turn() {
        let mut seq = TradeSequence::default();
        let mut accept = |id: u64| {
            let (t, s) = trade(id);
            seq.accept(t, s)
        };
        accept(1);
        assert_eq!(accept(5).fetch, Some(Gap { from: 2, to: 5 }));
        assert!(accept(6).deliver.is_empty());
        let second = accept(9);
        assert_eq!((second.fetch, second.missed), (None, 0), "waits its turn");
        assert!(accept(10).deliver.is_empty());
        let fetched = [2, 3, 4].map(|id| trade(id).0).to_vec();
        let done = seq.filled(Gap { from: 2, to: 5 }, fetched, 0);
        assert_eq!(ids(&done), [2, 3, 4, 5, 6], "up to the next gap");
        assert_eq!(done.fetch, Some(Gap { from: 7, to: 9 }));
        let done = seq.filled(Gap { from: 7, to: 9 }, vec![trade(7).0], 0);
        assert_eq!(ids(&done), [7, 9, 10]);
        assert_eq!((done.fetch, done.filled, done.missed), (None, 1, 1));
        let (t, s) = trade(11);
        assert_eq!(ids(&seq.accept(t, s)), [11]);
    }

    #[test]
    fn gaps_past_the_bound_are_counted_not_fetched() {
        let mut seq = TradeSequence::default();
        let (t, s) = trade(1);
        seq.accept(t, s);
        let mut missed = 0;
        for k in 1..=MAX_GAPS as u64 + 2 {
            let (t, s) = trade(1 + 2 * k); // skips one id each time
            missed += seq.accept(t, s).missed;
        }
        assert_eq!(missed, 2, "the two gaps past {MAX_GAPS}");
        let mut delivered = Vec::new();
        let mut gap = Some(Gap { from: 2, to: 3 });
        while let Some(g) = gap {
            let done = seq.filled(g, vec![trade(g.from).0], 0);
            delivered.extend(ids(&done));
            gap = done.fetch;
        }
        let expected: Vec<u64> = (2..=2 * MAX_GAPS as u64 + 5)
            .filter(|&id| id <= 2 * MAX_GAPS as u64 + 1 || id % 2 == 1)
            .collect();
        assert_eq!(delivered, expected);
    }

    #[test]
    fn a_gap_too_long_to_fetch_is_counted_and_skipped() {
        let mut seq = TradeSequence::default();
        let (t, s) = trade(1);
        seq.accept(t, s);
        let (t, s) = trade(MAX_FILL + 3);
        let outcome = seq.accept(t, s);
        assert_eq!(outcome.fetch, None);
        assert_eq!(
            (ids(&outcome), outcome.missed),
            (vec![MAX_FILL + 3], MAX_FILL + 1)
        );
    }
}
