//! The TA-Lib columns of a symbol's row, computed on demand.
//!
//! The catalog holds every TA-Lib function (and every configured extra spec), but a symbol's bar
//! runs only the indicators something has asked for: a strategy's `market::feature` read, a
//! model's input list, or every one when `[features].eager` is set. An indicator asked for late
//! is started over the symbol's kept bars ([`crate::market::HISTORY`]) before it is read, and the
//! rows of feature history those bars produced are filled in, so its values, transforms and model
//! windows are exactly those of an indicator that ran from the first kept bar: identical to
//! computing it on every bar while the symbol has seen no more bars than are kept, and TA-Lib's
//! value over the kept bars after that (functions with memory, such as EMA, then differ from an
//! indicator started at the very first bar by their decayed start).

use std::collections::VecDeque;

use stratbox_ta::indicator::MAX_OUTPUTS;
use stratbox_ta::{Indicator, Spec};

use super::history::History;
use crate::model::Bar;

/// Where each spec's outputs sit in the row, shared by every symbol.
#[derive(Debug)]
pub(super) struct TechnicalLayout {
    specs: Vec<Spec>,
    /// First column and width of each spec.
    columns: Vec<(usize, usize)>,
    /// The spec of each technical column, from the first technical column on.
    spec_of: Vec<usize>,
    first: usize,
    /// Specs every symbol computes from its first bar.
    always: Vec<bool>,
}

/// One running indicator writing its outputs into consecutive columns.
struct Running {
    indicator: Box<dyn Indicator>,
    first: usize,
    width: usize,
}

/// The indicators one symbol runs.
pub(super) struct Technical {
    started: Vec<bool>,
    running: Vec<Running>,
}

impl TechnicalLayout {
    /// Lays out `specs` from column `first` on; with `eager`, every symbol runs every spec.
    pub(super) fn new(specs: Vec<Spec>, first: usize, eager: bool) -> Self {
        let mut columns = Vec::with_capacity(specs.len());
        let mut spec_of = Vec::new();
        let mut column = first;
        for (i, spec) in specs.iter().enumerate() {
            let width = spec.function.outputs.len();
            columns.push((column, width));
            spec_of.extend(std::iter::repeat_n(i, width));
            column += width;
        }
        let always = vec![eager; specs.len()];
        Self {
            specs,
            columns,
            spec_of,
            first,
            always,
        }
    }

    /// The spec computing `column`, if it is a technical column.
    pub(super) fn spec_of(&self, column: usize) -> Option<usize> {
        self.spec_of.get(column.checked_sub(self.first)?).copied()
    }

    /// Makes every symbol seen from now on run `spec` from its first bar.
    pub(super) fn always(&mut self, spec: usize) {
        self.always[spec] = true;
    }

    /// The technical columns.
    pub(super) fn range(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.spec_of.len()
    }

    /// A new symbol's indicators: the ones every symbol runs, their columns held in `history`.
    pub(super) fn symbol(&self, history: &mut History) -> Technical {
        let mut technical = Technical {
            started: vec![false; self.specs.len()],
            running: Vec::new(),
        };
        for (spec, &always) in self.always.iter().enumerate() {
            if always {
                technical.add(self, spec, history);
            }
        }
        technical
    }
}

impl Technical {
    /// Runs `spec` from now on, its columns held in `history` (missing in the rows before).
    fn add(
        &mut self,
        layout: &TechnicalLayout,
        spec: usize,
        history: &mut History,
    ) -> &mut Running {
        let (first, width) = layout.columns[spec];
        self.started[spec] = true;
        history.hold(first, width);
        self.running.push(Running {
            indicator: layout.specs[spec].build(),
            first,
            width,
        });
        self.running.last_mut().expect("pushed above")
    }

    /// Feeds a closed bar to every running indicator, writing their outputs into `row`.
    pub(super) fn next(&mut self, bar: &Bar, row: &mut [f64]) {
        let bar = ta_bar(bar);
        for r in &mut self.running {
            r.indicator.next(&bar, &mut row[r.first..r.first + r.width]);
        }
    }

    /// Whether `spec` runs for this symbol.
    pub(super) fn is_started(&self, spec: usize) -> bool {
        self.started[spec]
    }

    /// Starts `spec` over `bars` (the symbol's kept bars, oldest first, ending with the bar of
    /// the current row): writes its outputs into `row` and into the rows of `history` (newest
    /// last, the last one being the current row) those bars produced.
    pub(super) fn start(
        &mut self,
        layout: &TechnicalLayout,
        spec: usize,
        bars: &VecDeque<Bar>,
        row: &mut [f64],
        history: &mut History,
    ) {
        if self.started[spec] {
            return;
        }
        let running = self.add(layout, spec, history);
        let (first, width) = (running.first, running.width);
        let mut out = [f64::NAN; MAX_OUTPUTS];
        let out = &mut out[..width];
        // Bar i of n produced history row i + rows - n, when that is a row still kept.
        let skipped = bars.len().saturating_sub(history.len());
        let offset = history.len().saturating_sub(bars.len());
        for (i, bar) in bars.iter().enumerate() {
            running.indicator.next(&ta_bar(bar), out);
            if let Some(r) = i.checked_sub(skipped) {
                history
                    .columns_mut(r + offset, first, width)
                    .copy_from_slice(out);
            }
        }
        if !bars.is_empty() {
            row[first..first + width].copy_from_slice(out);
        }
    }
}

fn ta_bar(bar: &Bar) -> stratbox_ta::Bar {
    stratbox_ta::Bar {
        open: bar.open,
        high: bar.high,
        low: bar.low,
        close: bar.close,
        volume: bar.volume,
    }
}
