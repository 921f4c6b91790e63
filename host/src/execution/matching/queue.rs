//! Where a resting order stands in its price level's queue, estimated from the L2 data it
//! cannot see directly, by the queue models of hftbacktest (`models/queue.rs`):
//!
//! - **risk-averse**: the queue ahead shrinks only by trades at the order's price; a level
//!   that shrinks below it caps it (`front = min(front, level)`).
//! - **probabilistic**: a level's decrease not explained by trades comes from ahead of the
//!   order with probability `1 - p` and from behind it with `p = f(back) / (f(back) +
//!   f(front))` (or the variants below), as Rigtorp's "estimating order queue position" does;
//!   `f` is a power (`x^n`) or a logarithm (`ln(1 + x)`).
//!
//! The order fills once trades at its price have eaten through the queue ahead of it.

/// The probability function of a probabilistic queue model (hftbacktest's names).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ProbFn {
    /// `PowerProbQueueFunc(n)`: `f(x) = x^n`, `p = f(back) / (f(back) + f(front))`.
    Power(f64),
    /// `PowerProbQueueFunc2(n)`: `p = f(back) / f(back + front)`.
    Power2(f64),
    /// `PowerProbQueueFunc3(n)`: `p = 1 - f(front / (front + back))`.
    Power3(f64),
    /// `LogProbQueueFunc`: `f(x) = ln(1 + x)`, `p = f(back) / (f(back) + f(front))`.
    Log,
    /// `LogProbQueueFunc2`: `p = f(back) / f(back + front)`.
    Log2,
}

impl ProbFn {
    /// The probability that a decrease of the level came from behind the order.
    fn prob(self, front: f64, back: f64) -> f64 {
        let p = match self {
            ProbFn::Power(n) => back.powf(n) / (back.powf(n) + front.powf(n)),
            ProbFn::Power2(n) => back.powf(n) / (back + front).powf(n),
            ProbFn::Power3(n) => 1.0 - (front / (front + back)).powf(n),
            ProbFn::Log => (1.0 + back).ln() / ((1.0 + back).ln() + (1.0 + front).ln()),
            ProbFn::Log2 => (1.0 + back).ln() / (1.0 + back + front).ln(),
        };
        // As hftbacktest: an infinite ratio means everything is behind.
        if p.is_infinite() { 1.0 } else { p }
    }
}

/// How queue positions are estimated.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum QueueModel {
    /// Only trades at the order's price advance it.
    #[default]
    RiskAverse,
    /// Level decreases advance it with a probability.
    Probabilistic(ProbFn),
}

/// Why a queue model's name could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "unknown queue model {0:?}: use risk-averse, power:N, power2:N, power3:N, log or log2 (log:1, log:2)"
)]
pub struct QueueModelError(String);

impl std::str::FromStr for QueueModel {
    type Err = QueueModelError;

    /// `risk-averse`, `power:N`, `power2:N`, `power3:N` (N > 0), `log` (or `log:1`), `log2`
    /// (or `log:2`).
    fn from_str(s: &str) -> Result<Self, QueueModelError> {
        let bad = || QueueModelError(s.to_string());
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let n = || -> Result<f64, QueueModelError> {
            arg.and_then(|a| a.parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n > 0.0)
                .ok_or_else(bad)
        };
        Ok(match (name, arg) {
            ("risk-averse", None) => QueueModel::RiskAverse,
            ("power", _) => QueueModel::Probabilistic(ProbFn::Power(n()?)),
            ("power2", _) => QueueModel::Probabilistic(ProbFn::Power2(n()?)),
            ("power3", _) => QueueModel::Probabilistic(ProbFn::Power3(n()?)),
            ("log", None | Some("1")) => QueueModel::Probabilistic(ProbFn::Log),
            ("log2", None) | ("log", Some("2")) => QueueModel::Probabilistic(ProbFn::Log2),
            _ => return Err(bad()),
        })
    }
}

/// One order's estimated queue position.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QueuePos {
    /// Quantity estimated ahead of the order.
    front: f64,
    /// Quantity traded at the level since the level last changed.
    traded: f64,
}

impl QueuePos {
    /// An order joining the back of a level holding `ahead`.
    pub fn behind(ahead: f64) -> Self {
        QueuePos {
            front: ahead.max(0.0),
            traded: 0.0,
        }
    }

    /// Quantity estimated ahead.
    pub fn ahead(&self) -> f64 {
        self.front.max(0.0)
    }

    /// A trade of `quantity` at the order's price.
    pub fn trade(&mut self, quantity: f64) {
        self.front -= quantity;
        self.traded += quantity;
    }

    /// The level's quantity changed from `previous` to `now`.
    pub fn level(&mut self, model: QueueModel, previous: f64, now: f64) {
        match model {
            QueueModel::RiskAverse => self.front = self.front.min(now),
            QueueModel::Probabilistic(f) => {
                // Trades already advanced the order: do not count their decrease twice.
                let change = previous - now - self.traded;
                self.traded = 0.0;
                if change < 0.0 {
                    self.front = self.front.min(now);
                    return;
                }
                let front = self.front;
                let back = previous - front;
                let p = f.prob(front, back);
                let estimate = front - (1.0 - p) * change + (back - p * change).min(0.0);
                self.front = estimate.min(now);
            }
        }
    }

    /// How much of the order trades have reached (the quantity past the front), which is then
    /// taken: the front is the order itself from then on.
    pub fn take_executable(&mut self) -> f64 {
        if self.front < 0.0 {
            let executable = -self.front;
            self.front = 0.0;
            executable
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_models_by_name() {
        assert_eq!("risk-averse".parse(), Ok(QueueModel::RiskAverse));
        assert_eq!(
            "power:3".parse(),
            Ok(QueueModel::Probabilistic(ProbFn::Power(3.0)))
        );
        assert_eq!("log".parse(), Ok(QueueModel::Probabilistic(ProbFn::Log)));
        assert_eq!("log:2".parse(), Ok(QueueModel::Probabilistic(ProbFn::Log2)));
        assert!("power".parse::<QueueModel>().is_err());
        assert!("power:-1".parse::<QueueModel>().is_err());
        assert!(
            "fifo"
                .parse::<QueueModel>()
                .unwrap_err()
                .to_string()
                .contains("risk-averse")
        );
    }

    #[test]
    fn risk_averse_advances_on_trades_only() {
        let mut q = QueuePos::behind(10.0);
        q.level(QueueModel::RiskAverse, 10.0, 7.0); // a cancel behind or ahead: unknown
        assert_eq!(q.ahead(), 7.0);
        q.trade(5.0);
        assert_eq!(q.take_executable(), 0.0);
        q.trade(4.0);
        assert_eq!(q.take_executable(), 2.0);
        assert_eq!(q.ahead(), 0.0);
    }

    #[test]
    fn probabilistic_models_match_hftbacktest() {
        // hftbacktest ProbQueueModel with PowerProbQueueFunc(3): front 10, back 30, the level
        // falls by 8 with no trade: p = 30^3 / (30^3 + 10^3) = 0.9643; front = 10 - 0.0357 * 8.
        let mut q = QueuePos::behind(10.0);
        q.level(QueueModel::Probabilistic(ProbFn::Power(3.0)), 40.0, 32.0);
        let p = 27_000.0 / 28_000.0;
        assert!((q.ahead() - (10.0 - (1.0 - p) * 8.0)).abs() < 1e-12);
        // Trades are not counted twice: a trade of 3 then the level falling by 3 leaves the front
        // where the trade put it.
        let mut q = QueuePos::behind(10.0);
        q.trade(3.0);
        q.level(QueueModel::Probabilistic(ProbFn::Log), 40.0, 37.0);
        assert_eq!(q.ahead(), 7.0);
        // A decrease larger than what is behind must come partly from ahead.
        let mut q = QueuePos::behind(10.0);
        q.level(QueueModel::Probabilistic(ProbFn::Power2(2.0)), 12.0, 1.0);
        assert!(q.ahead() <= 1.0);
        for f in [ProbFn::Power3(2.0), ProbFn::Log2] {
            let p = f.prob(10.0, 30.0);
            assert!((0.0..=1.0).contains(&p), "{f:?}: {p}");
        }
    }
}
