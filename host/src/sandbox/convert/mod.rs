//! Every conversion between the contract's WIT types and the host's domain types, one module
//! per contract version. Nothing else in the host names a generated binding type but the host
//! interfaces that receive them.
//!
//! Values a guest sends are checked here: prices and quantities must be finite and positive,
//! and become exact [`Fixed`] values; anything else is refused with the field named.

pub mod v0_1;

use crate::model::{Fixed, Rejection};

/// A positive exact value from a guest's f64, or a refusal naming `what`.
pub(crate) fn positive(what: &str, x: f64) -> Result<Fixed, Rejection> {
    let v = Fixed::from_f64(x).map_err(|e| Rejection::invalid(format!("{what}: {e}")))?;
    if !v.is_positive() {
        return Err(Rejection::invalid(format!(
            "{what} must be positive, got {x}"
        )));
    }
    Ok(v)
}
