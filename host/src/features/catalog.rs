//! The feature registry: every named feature with its parameters, lookback, source and meaning.

use rustc_hash::FxHashMap;
use stratbox_ta::{Spec, registry};

/// Where a feature's inputs come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Closed bars of the symbol.
    Bars,
    /// Public trades of the symbol.
    Trades,
    /// The symbol's local order book.
    Book,
    /// A sentiment source (Fear & Greed, news headlines).
    Sentiment,
    /// A macro series, as of its publication.
    Macro,
    /// A social source's posts (`[[sources]]` of a social format).
    Social,
    /// Bars of the symbol and of a reference symbol.
    Cross(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Bars => f.write_str("bars"),
            Source::Trades => f.write_str("trades"),
            Source::Book => f.write_str("book"),
            Source::Sentiment => f.write_str("sentiment"),
            Source::Macro => f.write_str("macro"),
            Source::Social => f.write_str("social"),
            Source::Cross(r) => write!(f, "bars+{r}"),
        }
    }
}

/// One named feature.
#[derive(Clone, Debug)]
pub struct FeatureDef {
    /// The name strategies and models use.
    pub name: String,
    /// Its parameters, as text (`timeperiod=14`).
    pub params: String,
    /// Bars (or buckets) of history it needs before its first value.
    pub lookback: usize,
    /// Where its inputs come from.
    pub source: Source,
    /// One line saying what it is.
    pub description: String,
}

/// The features one engine computes, in column order.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    defs: Vec<FeatureDef>,
    /// Column by name (strategies look names up on every read: a fast hash).
    index: FxHashMap<String, usize>,
}

impl Catalog {
    /// Adds a feature; returns its column.
    pub(super) fn add(
        &mut self,
        name: impl Into<String>,
        params: impl Into<String>,
        lookback: usize,
        source: Source,
        description: impl Into<String>,
    ) -> usize {
        let name = name.into();
        let column = self.defs.len();
        self.index.insert(name.clone(), column);
        self.defs.push(FeatureDef {
            name,
            params: params.into(),
            lookback,
            source,
            description: description.into(),
        });
        column
    }

    /// Adds the columns of a TA-Lib spec; returns the first column.
    pub(super) fn add_spec(&mut self, spec: &Spec) -> usize {
        let first = self.defs.len();
        let f = spec.function;
        let params = f
            .params
            .iter()
            .zip(&spec.values)
            .map(|(p, v)| format!("{}={}", p.name, stratbox_ta::spec::shortest(*v)))
            .collect::<Vec<_>>()
            .join(" ");
        let lookback = spec.build().lookback();
        for (column, output) in spec.column_names().into_iter().zip(f.outputs) {
            let description = if f.outputs.len() > 1 {
                format!(
                    "{} ({output}; TA-Lib {})",
                    f.description,
                    f.group.talib_name()
                )
            } else {
                format!("{} (TA-Lib {})", f.description, f.group.talib_name())
            };
            self.add(column, params.clone(), lookback, Source::Bars, description);
        }
        first
    }

    /// Every feature, in column order.
    pub fn defs(&self) -> &[FeatureDef] {
        &self.defs
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    /// True when no feature is defined.
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// The column of `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// A clear error for a name that is not in the catalog.
    pub fn unknown(&self, name: &str) -> String {
        let hint = if Spec::parse(name.split('.').next().unwrap_or(name)).is_ok() {
            " (a valid TA-Lib spec that is not computed: add it to [features].extra in the config)"
        } else if registry::find(name.split('_').next().unwrap_or(name)).is_some() {
            " (check the spec's parameters)"
        } else {
            ""
        };
        format!(
            "unknown feature {name:?}{hint}; `stratbox features list` prints the {} accepted names; \
             transforms: zscore_N:<feature>, minmax_N:<feature>, winsor_N_P:<feature>, \
             missing:<feature>, ffill:<feature>",
            self.defs.len()
        )
    }
}
