//! Spans for the `tracing` feature. Without the feature every type here is empty and every
//! function does nothing, so call sites need no `cfg` and cost nothing.
//!
//! All spans have target `redorm`:
//!
//! | span | level | fields |
//! |---|---|---|
//! | `transaction` | debug | `mode` (`"read"`/`"write"`); `outcome` (`"commit"`, `"rollback"` or `"commit_failed"`) for writes |
//! | `query` | debug | `table`, `terminal` (`"all"`, `"first"`, `"iter"`, `"paginate"`, `"count"`, `"aggregate"`), `plan` (the plan in one line) |
//! | `load` | debug | `relation` (`"users.posts"`), `parents`, `probes` (keys looked up), `rows` (rows loaded) |
//! | `write` | trace | `op` (`"insert"`, `"update"`, `"delete"`, …), `table` |
//! | `job_batch` | debug | `table`, `count` (rows changed by the batch) |
//!
//! Query and write spans are children of their transaction's span; a relation level's span is
//! a child of its query's (or of the level above); a transaction begun by a job batch is a
//! child of the batch's span. [`Db::write`](crate::Db::write) and
//! [`Db::transaction`](crate::Db::transaction) enter the transaction's span while the closure
//! runs, so the caller's own spans nest in it.

/// The span of one transaction.
#[derive(Debug)]
pub(crate) struct TxSpan {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    /// Whether a write transaction's outcome still has to be recorded (when it is dropped).
    #[cfg(feature = "tracing")]
    open: bool,
}

/// An entered span, left when dropped.
#[must_use = "the span is left as soon as this is dropped"]
pub(crate) struct Entered {
    #[cfg(feature = "tracing")]
    span: tracing::span::EnteredSpan,
}

impl TxSpan {
    /// The span of a read transaction.
    #[inline]
    pub(crate) fn read() -> Self {
        TxSpan {
            #[cfg(feature = "tracing")]
            span: tracing::debug_span!(target: "redorm", "transaction", mode = "read"),
            #[cfg(feature = "tracing")]
            open: false,
        }
    }

    /// The span of a write transaction; it records `outcome = "rollback"` when dropped before
    /// [`finish`](TxSpan::finish).
    #[inline]
    pub(crate) fn write() -> Self {
        TxSpan {
            #[cfg(feature = "tracing")]
            span: tracing::debug_span!(
                target: "redorm",
                "transaction",
                mode = "write",
                outcome = tracing::field::Empty
            ),
            #[cfg(feature = "tracing")]
            open: true,
        }
    }

    /// Records how the write transaction ended.
    #[inline]
    pub(crate) fn finish(&mut self, outcome: &'static str) {
        #[cfg(feature = "tracing")]
        {
            self.span.record("outcome", outcome);
            self.open = false;
        }
        #[cfg(not(feature = "tracing"))]
        let _ = outcome;
    }

    /// Enters the span until the guard is dropped.
    #[inline]
    pub(crate) fn enter(&self) -> Entered {
        Entered {
            #[cfg(feature = "tracing")]
            span: self.span.clone().entered(),
        }
    }
}

#[cfg(feature = "tracing")]
impl Drop for TxSpan {
    fn drop(&mut self) {
        if self.open {
            self.span.record("outcome", "rollback");
        }
    }
}

impl Entered {
    /// Records a count field (`rows`, `count`) on the span.
    #[inline]
    pub(crate) fn record_count(&self, field: &'static str, n: usize) {
        #[cfg(feature = "tracing")]
        self.span.record(field, n);
        #[cfg(not(feature = "tracing"))]
        let _ = (field, n);
    }
}

/// Enters the span of a query terminal on `table`, inside transaction `tx`.
#[inline]
pub(crate) fn query(tx: &TxSpan, table: &'static str, terminal: &'static str) -> Entered {
    #[cfg(feature = "tracing")]
    {
        let span = tracing::debug_span!(
            target: "redorm",
            parent: &tx.span,
            "query",
            table,
            terminal,
            plan = tracing::field::Empty
        );
        Entered {
            span: span.entered(),
        }
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (tx, table, terminal);
        Entered {}
    }
}

/// Records the plan of the query whose span is entered (nothing if none is): `describe` is
/// called only when the span records.
#[inline]
pub(crate) fn plan(describe: impl FnOnce() -> String) {
    #[cfg(feature = "tracing")]
    {
        let span = tracing::Span::current();
        if span.metadata().is_some_and(|m| m.name() == "query") {
            let text = describe();
            let line: Vec<&str> = text.lines().collect();
            span.record("plan", line.join("; "));
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = describe;
}

/// Enters the span of one relation level: `relation` of `table`, loaded for `parents` rows;
/// `probes` (how many keys the level looks up) is called only when the span records. The
/// caller records `rows` when the level is loaded.
#[inline]
pub(crate) fn load(
    table: &'static str,
    relation: &'static str,
    parents: usize,
    probes: impl FnOnce() -> usize,
) -> Entered {
    #[cfg(feature = "tracing")]
    {
        let span = tracing::debug_span!(
            target: "redorm",
            "load",
            relation = tracing::field::display(Dotted(table, relation)),
            parents,
            probes = tracing::field::Empty,
            rows = tracing::field::Empty
        );
        if !span.is_disabled() {
            span.record("probes", probes());
        }
        Entered {
            span: span.entered(),
        }
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (table, relation, parents, probes);
        Entered {}
    }
}

/// Enters the span of one write call (`op` on `table`) inside transaction `tx`.
#[inline]
pub(crate) fn write(tx: &TxSpan, op: &'static str, table: &'static str) -> Entered {
    #[cfg(feature = "tracing")]
    {
        let span = tracing::trace_span!(target: "redorm", parent: &tx.span, "write", op, table);
        Entered {
            span: span.entered(),
        }
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (tx, op, table);
        Entered {}
    }
}

/// Enters the span of one batch of a scheduled job on `table`; the caller records `count`.
#[inline]
pub(crate) fn job_batch(table: &str) -> Entered {
    #[cfg(feature = "tracing")]
    {
        let span = tracing::debug_span!(
            target: "redorm",
            "job_batch",
            table,
            count = tracing::field::Empty
        );
        Entered {
            span: span.entered(),
        }
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = table;
        Entered {}
    }
}

/// `table.relation`, formatted only when a span records it.
#[cfg(feature = "tracing")]
struct Dotted(&'static str, &'static str);

#[cfg(feature = "tracing")]
impl std::fmt::Display for Dotted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}
