//! The planner: a pure function of the table's schema and the query (filter, order, forced
//! index) to a plan, which `explain` prints and `exec` runs.

use std::ops::Bound;

use super::filter::{Expr, Pred, StrOp};
use super::order::Order;
use crate::model::Visibility;
use crate::model::{CREATED_AT_COLUMN, ID_COLUMN, TableSchema, column_name};
use crate::storage;

/// A range on one column's key bytes: `(bytes, inclusive)` bounds; `None` is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ColRange {
    pub(crate) lo: Option<(Vec<u8>, bool)>,
    pub(crate) hi: Option<(Vec<u8>, bool)>,
    /// The filter parts that made the range, for explain.
    pub(crate) parts: Vec<usize>,
}

impl ColRange {
    pub(crate) fn tighten_lo(&mut self, key: &[u8], inclusive: bool) {
        let replace = match &self.lo {
            None => true,
            Some((k, inc)) => key > k.as_slice() || (key == k.as_slice() && *inc && !inclusive),
        };
        if replace {
            self.lo = Some((key.to_vec(), inclusive));
        }
    }
    pub(crate) fn tighten_hi(&mut self, key: &[u8], inclusive: bool) {
        let replace = match &self.hi {
            None => true,
            Some((k, inc)) => key < k.as_slice() || (key == k.as_slice() && *inc && !inclusive),
        };
        if replace {
            self.hi = Some((key.to_vec(), inclusive));
        }
    }

    pub(crate) fn apply(&mut self, bound: &Bounds<'_>) {
        match bound {
            Bounds::Lo(k, inc) => self.tighten_lo(k, *inc),
            Bounds::Hi(k, inc) => self.tighten_hi(k, *inc),
            Bounds::Between(lo, hi) => {
                self.tighten_lo(lo, true);
                self.tighten_hi(hi, true);
            }
            Bounds::Prefix(p) => {
                self.tighten_lo(p, true);
                if let Some(up) = storage::prefix_upper_bound(p) {
                    self.tighten_hi(&up, false);
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Access {
    /// The table itself, in id order.
    Rows,
    /// An index: one scan per probe (the key prefix pinned by equalities), each limited by the
    /// range on the next column.
    Index {
        index: usize,
        probes: Vec<Vec<u8>>,
        range: ColRange,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) access: Access,
    /// The filter's top-level `AND` parts (for explain).
    pub(crate) parts: Vec<Expr>,
    /// The parts pinning the index's leading columns (indexes into `parts`).
    pub(crate) pinned: Vec<usize>,
    /// Filter parts checked on each row (`None`: every part is served by the access path).
    pub(crate) residual: Option<Expr>,
    /// Order served by the access path: scan direction.
    pub(crate) reverse: bool,
    /// Several probes whose results must be merged by key suffix to keep the order.
    pub(crate) merge: bool,
    /// Order not served: sort in memory by these (column, desc) keys.
    pub(crate) sort: Option<Vec<(usize, bool)>>,
    pub(crate) full_scan: bool,
    /// Which rows by soft-deletion state.
    pub(crate) vis: Visibility,
    /// Read against the query's order, from a cursor towards the start (a backward page):
    /// set by `paginate`, which also flips `reverse`.
    pub(crate) backward: bool,
    /// For a row-table read: the ids a filter on `id` allows (its parts stay in `residual`,
    /// so a reader that ignores the bounds is only slower, never wrong).
    pub(crate) ids: (Bound<u64>, Bound<u64>),
}

/// Whether the row table's id order serves `order` (and in which direction): an order on the
/// id first, or on `created_at` alone (which never decreases with the id).
fn rows_order(order: &[(usize, bool)]) -> Option<bool> {
    match order {
        [] => Some(false),
        [(ID_COLUMN, d), ..] | [(CREATED_AT_COLUMN, d)] => Some(*d),
        _ => None,
    }
}

/// The id bounds the filter parts on `id` put on a row-table read.
fn id_bounds(uses: &[Option<(usize, Use<'_>)>]) -> (Bound<u64>, Bound<u64>) {
    let mut r = ColRange::default();
    for u in uses.iter().flatten() {
        match u {
            (ID_COLUMN, Use::Pin(vs)) => {
                let (Some(lo), Some(hi)) = (vs.iter().min(), vs.iter().max()) else {
                    continue;
                };
                r.tighten_lo(lo, true);
                r.tighten_hi(hi, true);
            }
            (ID_COLUMN, Use::Range { bound, .. }) => r.apply(bound),
            _ => {}
        }
    }
    let id = |k: &[u8]| k.try_into().ok().map(u64::from_be_bytes);
    let side = |b: &Option<(Vec<u8>, bool)>| match b {
        None => Bound::Unbounded,
        Some((k, inc)) => match id(k) {
            Some(v) if *inc => Bound::Included(v),
            Some(v) => Bound::Excluded(v),
            None => Bound::Unbounded,
        },
    };
    (side(&r.lo), side(&r.hi))
}

/// A bound a filter part puts on one column's key.
pub(crate) enum Bounds<'e> {
    Lo(&'e [u8], bool),
    Hi(&'e [u8], bool),
    Between(&'e [u8], &'e [u8]),
    /// Every key starting with these bytes.
    Prefix(&'e [u8]),
}

/// How a conjunct can help an index.
pub(crate) enum Use<'e> {
    /// Pins the column to these key values.
    Pin(Vec<&'e [u8]>),
    /// Bounds the column; `exact` when the bound alone decides the part (a `like` with
    /// wildcards after its literal prefix is only narrowed by it, and still checked per row);
    /// `not_null` when the range also leaves out `None` (every range on an `Option`).
    Range {
        bound: Bounds<'e>,
        exact: bool,
        not_null: bool,
    },
}

/// The key of `None`, for `is_null` pins.
pub(crate) const NULL_KEY: &[u8] = &[0];

pub(crate) fn classify(e: &Expr) -> Option<(usize, Use<'_>)> {
    use crate::query::filter::CmpOp;
    match e {
        Expr::Pred {
            column,
            pred,
            nullable,
            ..
        } => {
            let column = *column;
            let range = |bound, exact| Use::Range {
                bound,
                exact,
                not_null: *nullable,
            };
            match pred {
                Pred::Cmp(CmpOp::Eq, v) => Some((column, Use::Pin(vec![v.key.as_slice()]))),
                Pred::In(vs) => Some((
                    column,
                    Use::Pin(vs.iter().map(|v| v.key.as_slice()).collect()),
                )),
                Pred::IsNull => Some((column, Use::Pin(vec![NULL_KEY]))),
                Pred::IsNotNull => Some((column, range(Bounds::Lo(NULL_KEY, false), true))),
                Pred::Cmp(CmpOp::Ne, _) => None,
                Pred::Cmp(op, v) => {
                    let k = v.key.as_slice();
                    let bound = match op {
                        CmpOp::Gt => Bounds::Lo(k, false),
                        CmpOp::Gte => Bounds::Lo(k, true),
                        CmpOp::Lt => Bounds::Hi(k, false),
                        _ => Bounds::Hi(k, true),
                    };
                    Some((column, range(bound, true)))
                }
                Pred::Between(lo, hi) => {
                    Some((column, range(Bounds::Between(&lo.key, &hi.key), true)))
                }
                Pred::Str {
                    op: op @ (StrOp::StartsWith | StrOp::Like),
                    prefix_key,
                    pattern,
                    ..
                } => {
                    // The key prefix of a string column always ends an escaped run: a prefix
                    // range [p, succ(p)) holds exactly the values starting with the literal.
                    if *op == StrOp::Like && pattern.starts_with(['%', '_']) {
                        return None;
                    }
                    // `like` is decided by the range alone only for "literal%".
                    let exact = *op == StrOp::StartsWith
                        || (pattern.ends_with('%')
                            && !pattern[..pattern.len() - 1].contains(['%', '_']));
                    Some((column, range(Bounds::Prefix(prefix_key), exact)))
                }
                _ => None,
            }
        }
        // A same-column OR of equalities is a multi-value pin.
        Expr::Or(parts) => {
            let mut column = None;
            let mut values: Vec<&[u8]> = Vec::new();
            for p in parts {
                match classify(p)? {
                    (c, Use::Pin(vs)) if column.is_none_or(|x| x == c) => {
                        column = Some(c);
                        values.extend(vs);
                    }
                    _ => return None,
                }
            }
            values.sort_unstable();
            values.dedup();
            Some((column?, Use::Pin(values)))
        }
        _ => None,
    }
}

pub(crate) const MAX_PROBES: usize = 4096;

pub(crate) struct Candidate {
    pub(crate) index: usize,
    pub(crate) pinned_cols: usize,
    pub(crate) probes: Vec<Vec<u8>>,
    pub(crate) pinned: Vec<usize>,
    pub(crate) range: Option<ColRange>,
    pub(crate) consumed: Vec<usize>,
    pub(crate) order_served: Option<bool>,
}

pub(crate) fn conjuncts(filter: Option<&Expr>) -> Vec<Expr> {
    match filter {
        None => Vec::new(),
        Some(Expr::And(parts)) => parts.clone(),
        Some(e) => vec![e.clone()],
    }
}

pub(crate) fn plan(
    schema: &TableSchema,
    filter: Option<&Expr>,
    order: &[(usize, bool)],
    using: Option<usize>,
) -> Plan {
    let parts = conjuncts(filter);
    let uses: Vec<Option<(usize, Use<'_>)>> = parts.iter().map(classify).collect();
    let mut best: Option<Candidate> = None;
    for (pos, index) in schema.indexes.iter().enumerate() {
        if using.is_some_and(|u| u != pos) {
            continue;
        }
        let mut probes: Vec<Vec<u8>> = vec![Vec::new()];
        let mut consumed = Vec::new();
        let mut pinned = Vec::new();
        let mut single_valued = Vec::new();
        let mut pinned_cols = 0;
        for &col in &index.columns {
            // Among the parts pinning this column, the one with the fewest values.
            let pin = uses
                .iter()
                .enumerate()
                .filter_map(|(i, u)| match u {
                    Some((c, Use::Pin(vs))) if *c == col => Some((i, vs)),
                    _ => None,
                })
                .min_by_key(|(_, vs)| vs.len());
            let Some((part, values)) = pin else { break };
            if probes.len().saturating_mul(values.len().max(1)) > MAX_PROBES {
                break;
            }
            probes = probes
                .iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut k = p.clone();
                        k.extend_from_slice(v);
                        k
                    })
                })
                .collect();
            if values.len() == 1 {
                single_valued.push(col);
            }
            consumed.push(part);
            pinned.push(part);
            pinned_cols += 1;
        }
        let mut range = None;
        if let Some(&next) = index.columns.get(pinned_cols) {
            let mut r = ColRange::default();
            let mut any = false;
            for (i, u) in uses.iter().enumerate() {
                if let Some((
                    c,
                    Use::Range {
                        bound,
                        exact,
                        not_null,
                    },
                )) = u
                    && *c == next
                {
                    r.apply(bound);
                    if *not_null {
                        r.tighten_lo(NULL_KEY, false);
                    }
                    r.parts.push(i);
                    if *exact {
                        consumed.push(i);
                    }
                    any = true;
                }
            }
            if any {
                range = Some(r);
            }
        }
        // Does the index order serve the requested order?
        let rest: Vec<usize> = index.columns[pinned_cols..].to_vec();
        let wanted: Vec<(usize, bool)> = order
            .iter()
            .copied()
            .filter(|(c, _)| !single_valued.contains(c))
            .collect();
        let order_served = if wanted.is_empty() {
            Some(false)
        } else if let ([], [(ID_COLUMN | CREATED_AT_COLUMN, d)]) =
            (rest.as_slice(), wanted.as_slice())
        {
            // Every column pinned: entries of one probe are in id order.
            Some(*d)
        } else if wanted.len() == rest.len()
            && wanted.iter().zip(&rest).all(|((c, _), r)| c == r)
            && wanted.iter().all(|(_, d)| *d == wanted[0].1)
        {
            Some(wanted[0].1)
        } else {
            None
        };
        let cand = Candidate {
            index: pos,
            pinned_cols,
            probes,
            pinned,
            range,
            consumed,
            order_served,
        };
        let better = match &best {
            None => true,
            Some(b) => {
                let key = |c: &Candidate| {
                    (
                        c.pinned_cols,
                        c.range.is_some(),
                        c.order_served.is_some(),
                        std::cmp::Reverse(c.probes.len()),
                    )
                };
                key(&cand) > key(b)
            }
        };
        if better {
            best = Some(cand);
        }
    }

    let residual_of = |consumed: &[usize]| -> Option<Expr> {
        let rest: Vec<Expr> = parts
            .iter()
            .enumerate()
            .filter(|(i, _)| !consumed.contains(i))
            .map(|(_, e)| e.clone())
            .collect();
        match rest.len() {
            0 => None,
            1 => rest.into_iter().next(),
            _ => Some(Expr::And(rest)),
        }
    };

    // An index is worth reading when it narrows the rows, serves the order, or is forced.
    let chosen = best.filter(|c| {
        c.pinned_cols > 0
            || c.range.is_some()
            || using.is_some()
            || (c.order_served.is_some() && !order.is_empty())
    });
    match chosen {
        Some(c) => {
            let narrows = c.pinned_cols > 0 || c.range.is_some();
            let residual = residual_of(&c.consumed);
            let order_ok = order.is_empty() || c.order_served.is_some();
            let reverse = c.order_served.unwrap_or(false);
            let merge = c.probes.len() > 1 && !order.is_empty() && order_ok;
            Plan {
                parts,
                full_scan: !narrows && (residual.is_some() || !order_ok),
                access: Access::Index {
                    index: c.index,
                    probes: c.probes,
                    range: c.range.unwrap_or_default(),
                },
                pinned: c.pinned,
                residual,
                reverse,
                merge,
                sort: if order_ok { None } else { Some(order.to_vec()) },
                vis: Visibility::Live,
                backward: false,
                ids: (Bound::Unbounded, Bound::Unbounded),
            }
        }
        None => {
            let residual = residual_of(&[]);
            let served = rows_order(order);
            // Parts on `id` are served by the row table's own order.
            let unserved = uses
                .iter()
                .any(|u| !matches!(u, Some((ID_COLUMN, Use::Pin(_) | Use::Range { .. }))));
            let ids = id_bounds(&uses);
            drop(uses);
            Plan {
                parts,
                full_scan: unserved || served.is_none(),
                access: Access::Rows,
                pinned: Vec::new(),
                residual,
                reverse: served.unwrap_or(false),
                merge: false,
                sort: if served.is_some() {
                    None
                } else {
                    Some(order.to_vec())
                },
                vis: Visibility::Live,
                backward: false,
                ids,
            }
        }
    }
}

impl Plan {
    pub(crate) fn describe(&self, schema: &TableSchema) -> String {
        let mut out = String::new();
        match &self.access {
            Access::Rows => {
                out.push_str("access: table scan in id order");
                let show = |b: &Bound<u64>, incl: &str, excl: &str| match b {
                    Bound::Included(v) => Some(format!("id {incl} {v}")),
                    Bound::Excluded(v) => Some(format!("id {excl} {v}")),
                    Bound::Unbounded => None,
                };
                let bounds: Vec<String> =
                    [show(&self.ids.0, ">=", ">"), show(&self.ids.1, "<=", "<")]
                        .into_iter()
                        .flatten()
                        .collect();
                if !bounds.is_empty() {
                    out.push_str(&format!(", range {}", bounds.join(" AND ")));
                }
                out.push('\n');
            }
            Access::Index {
                index,
                probes,
                range,
            } => {
                let name = schema.indexes[*index].name;
                let n = probes.len();
                let show = |ids: &[usize], sep: &str| {
                    ids.iter()
                        .map(|&i| self.parts[i].to_string())
                        .collect::<Vec<_>>()
                        .join(sep)
                };
                out.push_str(&format!(
                    "access: index {name} ({n} probe{}{}{})",
                    if n == 1 { "" } else { "s" },
                    if self.pinned.is_empty() { "" } else { ": " },
                    show(&self.pinned, ", ")
                ));
                if !range.parts.is_empty() {
                    out.push_str(&format!(", range {}", show(&range.parts, " AND ")));
                }
                out.push('\n');
            }
        }
        match &self.sort {
            Some(keys) => {
                let keys: Vec<String> = keys
                    .iter()
                    .map(|(c, d)| {
                        format!(
                            "{} {}",
                            column_name(schema, *c),
                            if *d { "desc" } else { "asc" }
                        )
                    })
                    .collect();
                out.push_str(&format!("order: sorted in memory by {}\n", keys.join(", ")));
            }
            None if self.merge => out.push_str(&format!(
                "order: served by the index ({}), probes merged\n",
                if self.reverse {
                    "descending"
                } else {
                    "ascending"
                }
            )),
            None if self.reverse && matches!(self.access, Access::Index { .. }) => {
                out.push_str("order: served by the index (descending)\n");
            }
            None => match &self.access {
                Access::Rows if self.reverse => out.push_str("order: by id (descending)\n"),
                Access::Rows => out.push_str("order: by id\n"),
                Access::Index { .. } => out.push_str("order: index order (ascending)\n"),
            },
        }
        if let Some(r) = &self.residual {
            out.push_str(&format!("post-filter: {r}\n"));
        }
        out
    }

    pub(crate) fn unserved_text<T>(&self, order: &[Order<T>]) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.residual {
            parts.push(format!("the filter {r}"));
        }
        if self.sort.is_some() {
            let keys: Vec<String> = order.iter().map(|o| format!("{o:?}")).collect();
            parts.push(format!("the order {}", keys.join(", ")));
        }
        parts.join(" and ")
    }

    /// What to do so the query does not read the whole table: the index to declare, and for
    /// each operator no index can serve (`contains`, `ends_with`, `ne`, …), what works instead.
    pub(crate) fn suggestion(&self, schema: &TableSchema, order: &[(usize, bool)]) -> String {
        // Equality columns first, then a range column, then the order columns.
        let mut eq = Vec::new();
        let mut range = Vec::new();
        let mut never = Vec::new();
        for part in conjuncts(self.residual.as_ref()) {
            match classify(&part) {
                Some((c, Use::Pin(_))) => eq.push(c),
                Some((c, Use::Range { .. })) => range.push(c),
                None => never.push(unservable(&part)),
            }
        }
        let mut cols: Vec<usize> = Vec::new();
        // The order columns go last; alone they are worth an index only if the order is what
        // needs one.
        let with_order = self.sort.is_some() || !eq.is_empty() || !range.is_empty();
        for c in eq
            .into_iter()
            .chain(range.into_iter().take(1))
            .chain(order.iter().map(|o| o.0).filter(|_| with_order))
        {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        let mut advice = Vec::new();
        if !cols.is_empty() {
            let names: Vec<&str> = cols.iter().map(|&c| column_name(schema, c)).collect();
            advice.push(format!(
                "Add `index(by_{} = [{}])` to the table's #[table(...)] attribute",
                names.join("_"),
                names.join(", ")
            ));
        }
        advice.extend(never);
        if advice.is_empty() {
            return "Add an index on the filtered columns to the table's #[table(...)] attribute"
                .to_string();
        }
        advice.join("; ")
    }
}

/// Why no index can serve `part` (a filter part `classify` finds no use for), and what to do.
fn unservable(part: &Expr) -> String {
    use crate::query::filter::CmpOp;
    let Expr::Pred { name, pred, .. } = part else {
        return match part {
            Expr::Or(_) => format!(
                "no index serves `{part}` (an OR across columns or operators): run one query \
                 per branch"
            ),
            Expr::Not(_) => format!(
                "no index serves `{part}` (a NOT): state the rows you want with eq, in_ or a \
                 range"
            ),
            Expr::Related(_) => format!(
                "no index of this table serves the relation filter `{part}` (it is checked on \
                 each row read): add a condition an index serves beside it"
            ),
            _ => format!("no index serves `{part}`"),
        };
    };
    let (op, instead) = match pred {
        Pred::Str {
            op: StrOp::Contains,
            ..
        } => (
            "contains",
            "keep the searchable words in a related table with an index on the word, or \
             match a prefix (starts_with) of an indexed copy (e.g. lowercased)",
        ),
        Pred::Str {
            op: StrOp::EndsWith,
            ..
        } => (
            "ends_with",
            "store the reversed string in an indexed column and use starts_with on it",
        ),
        Pred::Str {
            op: StrOp::Like, ..
        } => (
            "like with a leading wildcard",
            "start the pattern with literal characters (served as a prefix range), or keep \
             the searchable words in a related table with an index",
        ),
        Pred::Cmp(CmpOp::Ne, _) => (
            "ne",
            "ask for the values you want (eq, in_ or a range), which an index serves",
        ),
        Pred::NotIn(_) => (
            "not_in",
            "ask for the values you want (in_ or a range), which an index serves",
        ),
        _ => ("this operator", "rewrite it with eq, in_ or a range"),
    };
    format!(
        "`{op}` on `{name}` is never served by an index (an index serves equality, ranges and \
         prefixes): {instead}"
    )
}

#[cfg(test)]
#[path = "plan_tests.rs"]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
