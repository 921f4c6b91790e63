//! Pre-trade risk: each deployment's [`Budget`] and the [`Account`] it is checked against.
//! Every order a guest submits passes [`Account::pre_trade_check`] before it reaches a venue.

mod account;
mod budget;

pub use account::{Account, Marks, Position};
pub use budget::{Budget, BudgetError, RejectCode, Rejection};
