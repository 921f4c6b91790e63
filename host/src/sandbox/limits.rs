//! Bounds on what one guest may use: CPU per callback, linear memory, tables, and what one
//! callback may submit, emit, log or return.

use serde::{Deserialize, Serialize};

/// How CPU per callback is bounded. Chosen once per host, since it changes how code is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CpuLimit {
    /// Epoch interruption: a callback may run for `callback_ms` of wall time. Cheapest.
    Epoch,
    /// Fuel: a callback may execute `callback_fuel` units (about one per wasm instruction).
    /// Deterministic: a backtest halts at the same place on every machine.
    Fuel,
}

/// The sandbox's bounds, resolved from the host configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxLimits {
    /// How CPU is bounded.
    pub cpu: CpuLimit,
    /// Wall time one callback may take under [`CpuLimit::Epoch`].
    pub callback_ms: u64,
    /// Fuel one callback may burn under [`CpuLimit::Fuel`].
    pub callback_fuel: u64,
    /// Largest linear memory of one guest, in MiB.
    pub memory_mib: u64,
    /// Most table elements of one table.
    pub table_elements: usize,
    /// Most orders one callback may submit; one more halts the guest.
    pub orders_per_callback: u32,
    /// Most signals one callback may emit or an optimizer may add; more halts the guest.
    pub signals_per_callback: u32,
    /// Most log lines one callback may write; the rest are dropped.
    pub logs_per_callback: u32,
    /// Lets guests read the real wall and monotonic clocks through WASI (otherwise frozen at
    /// zero; event time is always available through the `clock` interface).
    pub grant_wall_clock: bool,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            cpu: CpuLimit::Epoch,
            callback_ms: 100,
            callback_fuel: 100_000_000,
            memory_mib: 64,
            table_elements: 100_000,
            orders_per_callback: 1_000,
            signals_per_callback: 1_000,
            logs_per_callback: 20,
            grant_wall_clock: false,
        }
    }
}

/// The per-store resource limiter: denies growth past the bounds and remembers what it denied,
/// so a halt can say "memory limit" rather than just "trap".
#[derive(Debug)]
pub struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    /// The last denial, for the halt reason.
    pub denied: Option<String>,
}

impl Limiter {
    /// A limiter for `limits`.
    pub fn new(limits: &SandboxLimits) -> Self {
        Limiter {
            memory_bytes: (limits.memory_mib as usize).saturating_mul(1 << 20),
            table_elements: limits.table_elements,
            denied: None,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.denied = Some(format!(
                "memory limit: tried to grow linear memory from {current} to {desired} bytes, above the {} MiB limit",
                self.memory_bytes >> 20
            ));
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            self.denied = Some(format!(
                "table limit: tried to grow a table from {current} to {desired} elements, above {}",
                self.table_elements
            ));
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}
