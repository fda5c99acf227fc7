//! The planner: a pure function of the table's schema and the query (filter, order, forced
//! index) to a plan, which `explain` prints and `exec` runs.

use super::filter::{Expr, Pred, StrOp};
use super::order::Order;
use crate::model::TableSchema;
use crate::model::Visibility;
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
    /// wildcards after its literal prefix is only narrowed by it, and still checked per row).
    Range(Bounds<'e>, bool),
}

/// The key of `None`, for `is_null` pins.
pub(crate) const NULL_KEY: &[u8] = &[0];

pub(crate) fn classify(e: &Expr) -> Option<(usize, Use<'_>)> {
    use crate::query::filter::CmpOp;
    match e {
        Expr::Pred { column, pred, .. } => {
            let column = *column;
            match pred {
                Pred::Cmp(CmpOp::Eq, v) => Some((column, Use::Pin(vec![v.key.as_slice()]))),
                Pred::In(vs) => Some((
                    column,
                    Use::Pin(vs.iter().map(|v| v.key.as_slice()).collect()),
                )),
                Pred::IsNull => Some((column, Use::Pin(vec![NULL_KEY]))),
                Pred::Cmp(CmpOp::Ne, _) => None,
                Pred::Cmp(op, v) => {
                    let k = v.key.as_slice();
                    let bound = match op {
                        CmpOp::Gt => Bounds::Lo(k, false),
                        CmpOp::Gte => Bounds::Lo(k, true),
                        CmpOp::Lt => Bounds::Hi(k, false),
                        _ => Bounds::Hi(k, true),
                    };
                    Some((column, Use::Range(bound, true)))
                }
                Pred::Between(lo, hi) => {
                    Some((column, Use::Range(Bounds::Between(&lo.key, &hi.key), true)))
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
                    Some((column, Use::Range(Bounds::Prefix(prefix_key), exact)))
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
                if let Some((c, Use::Range(bound, exact))) = u
                    && *c == next
                {
                    r.apply(bound);
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
        } else if wanted.len() <= rest.len()
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
            }
        }
        None => {
            let residual = residual_of(&[]);
            Plan {
                parts,
                full_scan: residual.is_some() || !order.is_empty(),
                access: Access::Rows,
                pinned: Vec::new(),
                residual,
                reverse: false,
                merge: false,
                sort: if order.is_empty() {
                    None
                } else {
                    Some(order.to_vec())
                },
                vis: Visibility::Live,
            }
        }
    }
}

impl Plan {
    pub(crate) fn describe(&self, schema: &TableSchema) -> String {
        let mut out = String::new();
        match &self.access {
            Access::Rows => out.push_str("access: table scan in id order\n"),
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
                            schema.columns[*c].name,
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
            None if self.reverse => out.push_str("order: served by the index (descending)\n"),
            None => match &self.access {
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

    pub(crate) fn suggestion(&self, schema: &TableSchema, order: &[(usize, bool)]) -> String {
        // Equality columns first, then a range column, then the order columns.
        let mut cols: Vec<usize> = Vec::new();
        let mut eq = Vec::new();
        let mut range = Vec::new();
        for part in conjuncts(self.residual.as_ref()) {
            match classify(&part) {
                Some((c, Use::Pin(_))) => eq.push(c),
                Some((c, Use::Range(..))) => range.push(c),
                None => {
                    if let Expr::Pred { column, .. } = part {
                        range.push(column);
                    }
                }
            }
        }
        for c in eq
            .into_iter()
            .chain(range.into_iter().take(1))
            .chain(order.iter().map(|o| o.0))
        {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        if cols.is_empty() {
            return "an index on the filtered columns".to_string();
        }
        let names: Vec<&str> = cols.iter().map(|&c| schema.columns[c].name).collect();
        format!("index(by_{} = [{}])", names.join("_"), names.join(", "))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    //! The planner on its own: one row per access shape `explain` can print, each asserting the
    //! exact `describe` text and every field of the plan.

    use super::*;
    use crate::Column;
    use crate::StrColumn;
    use crate::Table;
    use crate::query::filter::Filter;

    #[derive(crate::Table, Debug, Clone)]
    #[table(
        crate = crate,
        name = "posts",
        index(by_author_created = [author, created]),
        index(by_status_score = [status, score])
    )]
    struct Post {
        author: u64,
        created: i64,
        #[unique]
        slug: String,
        #[index]
        title: String,
        #[index]
        tag: Option<String>,
        status: String,
        score: i64,
        body: String,
    }

    /// For the tie-breaks: several indexes sharing the leading column `a`.
    #[derive(crate::Table, Debug, Clone)]
    #[table(
        crate = crate,
        name = "ties",
        index(by_a_c = [a, c]),
        index(by_a_d = [a, d])
    )]
    struct Tie {
        #[index]
        a: u32,
        #[index]
        b: u32,
        c: u32,
        d: u32,
    }

    /// The key bytes of one value.
    fn k<C: Column>(v: C) -> Vec<u8> {
        let mut out = Vec::new();
        v.encode_key(&mut out).unwrap();
        out
    }

    /// A compound key: the values' keys one after the other.
    fn cat(keys: &[Vec<u8>]) -> Vec<u8> {
        keys.concat()
    }

    fn range(
        lo: Option<(Vec<u8>, bool)>,
        hi: Option<(Vec<u8>, bool)>,
        parts: &[usize],
    ) -> ColRange {
        ColRange {
            lo,
            hi,
            parts: parts.to_vec(),
        }
    }

    /// The range a `starts_with(prefix)` on a `String` column makes.
    fn prefix_range(prefix: &str, parts: &[usize]) -> ColRange {
        let p = <String as StrColumn>::key_prefix(prefix);
        let hi = storage::prefix_upper_bound(&p).map(|u| (u, false));
        range(Some((p, true)), hi, parts)
    }

    #[derive(Debug, PartialEq)]
    enum Want {
        Rows,
        Index {
            name: &'static str,
            probes: Vec<Vec<u8>>,
            range: ColRange,
        },
    }

    /// One row of the table. The builder's defaults are expectations too: every field of the
    /// plan is compared, whether the row sets it or not.
    struct Case {
        name: &'static str,
        schema: TableSchema,
        filter: Option<Expr>,
        order: Vec<(usize, bool)>,
        using: Option<&'static str>,
        describe: String,
        access: Want,
        pinned: Vec<usize>,
        residual: Option<String>,
        reverse: bool,
        merge: bool,
        sort: Option<Vec<(usize, bool)>>,
        full_scan: bool,
    }

    fn case<T: Table>(name: &'static str) -> Case {
        Case {
            name,
            schema: T::schema(),
            filter: None,
            order: Vec::new(),
            using: None,
            describe: String::new(),
            access: Want::Rows,
            pinned: Vec::new(),
            residual: None,
            reverse: false,
            merge: false,
            sort: None,
            full_scan: false,
        }
    }

    impl Case {
        fn filter<T>(mut self, f: Filter<T>) -> Self {
            self.filter = Some(f.expr);
            self
        }
        fn order(mut self, order: &[(usize, bool)]) -> Self {
            self.order = order.to_vec();
            self
        }
        fn using(mut self, index: &'static str) -> Self {
            self.using = Some(index);
            self
        }
        fn describe(mut self, lines: &[&str]) -> Self {
            self.describe = lines.iter().map(|l| format!("{l}\n")).collect();
            self
        }
        fn index(mut self, name: &'static str, probes: Vec<Vec<u8>>, range: ColRange) -> Self {
            self.access = Want::Index {
                name,
                probes,
                range,
            };
            self
        }
        fn pinned(mut self, parts: &[usize]) -> Self {
            self.pinned = parts.to_vec();
            self
        }
        fn residual(mut self, text: impl Into<String>) -> Self {
            self.residual = Some(text.into());
            self
        }
        fn reverse(mut self) -> Self {
            self.reverse = true;
            self
        }
        fn merge(mut self) -> Self {
            self.merge = true;
            self
        }
        fn sort(mut self, keys: &[(usize, bool)]) -> Self {
            self.sort = Some(keys.to_vec());
            self
        }
        fn full_scan(mut self) -> Self {
            self.full_scan = true;
            self
        }

        /// Plans the row and lists how the plan differs from the expectation.
        fn check(&self) -> Vec<String> {
            let using = self.using.map(|n| {
                self.schema
                    .indexes
                    .iter()
                    .position(|i| i.name == n)
                    .unwrap_or_else(|| panic!("{}: no index {n}", self.name))
            });
            let plan = plan(&self.schema, self.filter.as_ref(), &self.order, using);
            let mut diffs = Vec::new();
            let mut diff =
                |what: &str, ok: bool, got: &dyn std::fmt::Debug, want: &dyn std::fmt::Debug| {
                    if !ok {
                        diffs.push(format!("{what}:\n   got: {got:?}\n  want: {want:?}"));
                    }
                };
            let describe = plan.describe(&self.schema);
            diff(
                "describe",
                describe == self.describe,
                &describe,
                &self.describe,
            );
            let access = match &plan.access {
                Access::Rows => Want::Rows,
                Access::Index {
                    index,
                    probes,
                    range,
                } => Want::Index {
                    name: self.schema.indexes[*index].name,
                    probes: probes.clone(),
                    range: range.clone(),
                },
            };
            diff("access", access == self.access, &access, &self.access);
            diff(
                "pinned",
                plan.pinned == self.pinned,
                &plan.pinned,
                &self.pinned,
            );
            let residual = plan.residual.as_ref().map(ToString::to_string);
            diff(
                "residual",
                residual == self.residual,
                &residual,
                &self.residual,
            );
            diff(
                "reverse",
                plan.reverse == self.reverse,
                &plan.reverse,
                &self.reverse,
            );
            diff("merge", plan.merge == self.merge, &plan.merge, &self.merge);
            diff("sort", plan.sort == self.sort, &plan.sort, &self.sort);
            diff(
                "full_scan",
                plan.full_scan == self.full_scan,
                &plan.full_scan,
                &self.full_scan,
            );
            diff(
                "vis",
                plan.vis == Visibility::Live,
                &plan.vis,
                &Visibility::Live,
            );
            // The parts are the filter's top-level AND parts, in order.
            let parts: Vec<String> = plan.parts.iter().map(ToString::to_string).collect();
            let want_parts: Vec<String> = conjuncts(self.filter.as_ref())
                .iter()
                .map(ToString::to_string)
                .collect();
            diff("parts", parts == want_parts, &parts, &want_parts);
            diffs
        }
    }

    fn run(cases: Vec<Case>) {
        let mut names = std::collections::HashSet::new();
        let mut failures = Vec::new();
        for c in &cases {
            assert!(names.insert(c.name), "two cases named {:?}", c.name);
            assert!(!c.describe.is_empty(), "{}: no describe text", c.name);
            let diffs = c.check();
            if !diffs.is_empty() {
                failures.push(format!("case {:?}:\n{}", c.name, diffs.join("\n")));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} planner cases failed:\n\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n\n")
        );
    }

    // Column positions (checked by `schemas_are_what_the_cases_assume`).
    const AUTHOR: usize = 0;
    const CREATED: usize = 1;
    const TITLE: usize = 3;
    const STATUS: usize = 5;
    const SCORE: usize = 6;
    const BODY: usize = 7;
    const D: usize = 3;

    /// `[0, 1, …, n-1]` as a filter prints a list.
    fn list(n: u64) -> String {
        let v: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        format!("[{}]", v.join(", "))
    }

    #[test]
    fn table_scans() {
        run(vec![
            case::<Post>("no filter, no order: the table by id")
                .describe(&["access: table scan in id order", "order: by id"]),
            case::<Post>("a filter no index serves: full scan with a post-filter")
                .filter(Post::body().eq("x"))
                .describe(&[
                    "access: table scan in id order",
                    "order: by id",
                    "post-filter: body = \"x\"",
                ])
                .residual("body = \"x\"")
                .full_scan(),
            case::<Post>("ne on an indexed column is neither a pin nor a range")
                .filter(Post::author().ne(1u64))
                .describe(&[
                    "access: table scan in id order",
                    "order: by id",
                    "post-filter: author != 1",
                ])
                .residual("author != 1")
                .full_scan(),
            case::<Post>("an or across two columns is a post-filter")
                .filter(Post::author().eq(1u64).or(Post::title().eq("a")))
                .describe(&[
                    "access: table scan in id order",
                    "order: by id",
                    "post-filter: (author = 1 OR title = \"a\")",
                ])
                .residual("(author = 1 OR title = \"a\")")
                .full_scan(),
            case::<Post>("like with a leading wildcard is a post-filter")
                .filter(Post::title().like("%pha"))
                .describe(&[
                    "access: table scan in id order",
                    "order: by id",
                    "post-filter: title like \"%pha\"",
                ])
                .residual("title like \"%pha\"")
                .full_scan(),
            case::<Post>("order on an unindexed column: full scan sorted in memory")
                .order(&[(BODY, false)])
                .describe(&[
                    "access: table scan in id order",
                    "order: sorted in memory by body asc",
                ])
                .sort(&[(BODY, false)])
                .full_scan(),
            case::<Post>("mixed directions no index serves: full scan sorted in memory")
                .order(&[(STATUS, false), (SCORE, true)])
                .describe(&[
                    "access: table scan in id order",
                    "order: sorted in memory by status asc, score desc",
                ])
                .sort(&[(STATUS, false), (SCORE, true)])
                .full_scan(),
        ]);
    }

    #[test]
    fn equality_pins() {
        let null = NULL_KEY.to_vec();
        run(vec![
            case::<Post>("eq on a single-column index")
                .filter(Post::title().eq("alpha"))
                .describe(&[
                    "access: index by_title (1 probe: title = \"alpha\")",
                    "order: index order (ascending)",
                ])
                .index("by_title", vec![k("alpha".to_string())], ColRange::default())
                .pinned(&[0]),
            case::<Post>("eq on the unique index")
                .filter(Post::slug().eq("hello"))
                .describe(&[
                    "access: index by_slug (1 probe: slug = \"hello\")",
                    "order: index order (ascending)",
                ])
                .index("by_slug", vec![k("hello".to_string())], ColRange::default())
                .pinned(&[0]),
            case::<Post>("eq on the leading column of a compound index")
                .filter(Post::author().eq(1u64))
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1)",
                    "order: index order (ascending)",
                ])
                .index("by_author_created", vec![k(1u64)], ColRange::default())
                .pinned(&[0]),
            case::<Post>("eq on both columns of a compound index")
                .filter(Post::author().eq(1u64).and(Post::created().eq(20i64)))
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1, created = 20)",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_author_created",
                    vec![cat(&[k(1u64), k(20i64)])],
                    ColRange::default(),
                )
                .pinned(&[0, 1]),
            case::<Post>("in_: one probe per value, in key order")
                .filter(Post::author().in_([3u64, 1]))
                .describe(&[
                    "access: index by_author_created (2 probes: author IN [1, 3])",
                    "order: index order (ascending)",
                ])
                .index("by_author_created", vec![k(1u64), k(3u64)], ColRange::default())
                .pinned(&[0]),
            case::<Post>("in_ on both columns: the cross product of probes")
                .filter(
                    Post::author()
                        .in_([1u64, 2])
                        .and(Post::created().in_([20i64, 10])),
                )
                .describe(&[
                    "access: index by_author_created (4 probes: author IN [1, 2], created IN [10, 20])",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_author_created",
                    vec![
                        cat(&[k(1u64), k(10i64)]),
                        cat(&[k(1u64), k(20i64)]),
                        cat(&[k(2u64), k(10i64)]),
                        cat(&[k(2u64), k(20i64)]),
                    ],
                    ColRange::default(),
                )
                .pinned(&[0, 1]),
            case::<Post>("a same-column or of eqs: probes")
                .filter(Post::author().eq(3u64).or(Post::author().eq(1u64)))
                .describe(&[
                    "access: index by_author_created (2 probes: (author = 3 OR author = 1))",
                    "order: index order (ascending)",
                ])
                .index("by_author_created", vec![k(1u64), k(3u64)], ColRange::default())
                .pinned(&[0]),
            case::<Post>("a same-column or of in_ and eq: values deduplicated")
                .filter(Post::author().in_([1u64, 2]).or(Post::author().eq(2u64)))
                .describe(&[
                    "access: index by_author_created (2 probes: (author IN [1, 2] OR author = 2))",
                    "order: index order (ascending)",
                ])
                .index("by_author_created", vec![k(1u64), k(2u64)], ColRange::default())
                .pinned(&[0]),
            case::<Post>("two pins on one column: the fewest values pin, the other post-filters")
                .filter(Post::author().in_([1u64, 2]).and(Post::author().eq(2u64)))
                .describe(&[
                    "access: index by_author_created (1 probe: author = 2)",
                    "order: index order (ascending)",
                    "post-filter: author IN [1, 2]",
                ])
                .index("by_author_created", vec![k(2u64)], ColRange::default())
                .pinned(&[1])
                .residual("author IN [1, 2]"),
            case::<Post>("an empty in_: zero probes")
                .filter(Post::author().in_(Vec::<u64>::new()))
                .describe(&[
                    "access: index by_author_created (0 probes: author IN [])",
                    "order: index order (ascending)",
                ])
                .index("by_author_created", vec![], ColRange::default())
                .pinned(&[0]),
            case::<Post>("is_null on an Option column pins the None key")
                .filter(Post::tag().is_null())
                .describe(&[
                    "access: index by_tag (1 probe: tag IS NULL)",
                    "order: index order (ascending)",
                ])
                .index("by_tag", vec![null.clone()], ColRange::default())
                .pinned(&[0]),
            case::<Post>("eq on an Option column pins the Some key")
                .filter(Post::tag().eq("rust"))
                .describe(&[
                    "access: index by_tag (1 probe: tag = Some(\"rust\"))",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_tag",
                    vec![k(Some("rust".to_string()))],
                    ColRange::default(),
                )
                .pinned(&[0]),
            case::<Post>("a same-column or of is_null and eq: two probes")
                .filter(Post::tag().is_null().or(Post::tag().eq("rust")))
                .describe(&[
                    "access: index by_tag (2 probes: (tag IS NULL OR tag = Some(\"rust\")))",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_tag",
                    vec![null, k(Some("rust".to_string()))],
                    ColRange::default(),
                )
                .pinned(&[0]),
            case::<Post>("probe cap: a pin that would pass MAX_PROBES stays a post-filter")
                .filter(
                    Post::author()
                        .in_(0..64u64)
                        .and(Post::created().in_(0..65i64)),
                )
                .describe(&[
                    &format!(
                        "access: index by_author_created (64 probes: author IN {})",
                        list(64)
                    ),
                    "order: index order (ascending)",
                    &format!("post-filter: created IN {}", list(65)),
                ])
                .index(
                    "by_author_created",
                    (0..64u64).map(k).collect(),
                    ColRange::default(),
                )
                .pinned(&[0])
                .residual(format!("created IN {}", list(65))),
            case::<Post>("probe cap: exactly MAX_PROBES probes is allowed")
                .filter(
                    Post::author()
                        .in_(0..64u64)
                        .and(Post::created().in_(0..64i64)),
                )
                .describe(&[
                    &format!(
                        "access: index by_author_created (4096 probes: author IN {}, created IN {})",
                        list(64),
                        list(64)
                    ),
                    "order: index order (ascending)",
                ])
                .index(
                    "by_author_created",
                    (0..64u64)
                        .flat_map(|a| (0..64i64).map(move |c| cat(&[k(a), k(c)])))
                        .collect(),
                    ColRange::default(),
                )
                .pinned(&[0, 1]),
            case::<Post>("probe cap: one in_ over MAX_PROBES pins nothing: full scan")
                .filter(Post::author().in_(0..5000u64))
                .describe(&[
                    "access: table scan in id order",
                    "order: by id",
                    &format!("post-filter: author IN {}", list(5000)),
                ])
                .residual(format!("author IN {}", list(5000)))
                .full_scan(),
        ]);
    }

    #[test]
    fn ranges() {
        let opt_prefix = <Option<String> as StrColumn>::key_prefix("ru");
        let opt_hi = storage::prefix_upper_bound(&opt_prefix).map(|u| (u, false));
        run(vec![
            case::<Post>("eq on the leading column plus a range on the next")
                .filter(
                    Post::author()
                        .eq(1u64)
                        .and(Post::created().gt(10i64))
                        .and(Post::created().lte(40i64)),
                )
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1), range created > 10 AND created <= 40",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_author_created",
                    vec![k(1u64)],
                    range(Some((k(10i64), false)), Some((k(40i64), true)), &[1, 2]),
                )
                .pinned(&[0]),
            case::<Post>("a range on the leading column, no pin")
                .filter(Post::title().gte("m"))
                .describe(&[
                    "access: index by_title (1 probe), range title >= \"m\"",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_title",
                    vec![vec![]],
                    range(Some((k("m".to_string()), true)), None, &[0]),
                ),
            case::<Post>("lt alone: an upper bound only")
                .filter(Post::title().lt("m"))
                .describe(&[
                    "access: index by_title (1 probe), range title < \"m\"",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_title",
                    vec![vec![]],
                    range(None, Some((k("m".to_string()), false)), &[0]),
                ),
            case::<Post>("between: both bounds inclusive")
                .filter(
                    Post::author()
                        .eq(2u64)
                        .and(Post::created().between(5i64, 15i64)),
                )
                .describe(&[
                    "access: index by_author_created (1 probe: author = 2), range created BETWEEN 5 AND 15",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_author_created",
                    vec![k(2u64)],
                    range(Some((k(5i64), true)), Some((k(15i64), true)), &[1]),
                )
                .pinned(&[0]),
            case::<Post>("several range parts on one column intersect")
                .filter(
                    Post::author()
                        .eq(1u64)
                        .and(Post::created().gt(5i64))
                        .and(Post::created().gte(10i64))
                        .and(Post::created().gt(10i64))
                        .and(Post::created().lte(40i64))
                        .and(Post::created().lt(40i64))
                        .and(Post::created().lt(50i64)),
                )
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1), range created > 5 AND created >= 10 AND created > 10 AND created <= 40 AND created < 40 AND created < 50",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_author_created",
                    vec![k(1u64)],
                    range(
                        Some((k(10i64), false)),
                        Some((k(40i64), false)),
                        &[1, 2, 3, 4, 5, 6],
                    ),
                )
                .pinned(&[0]),
            case::<Post>("between and a comparison intersect")
                .filter(
                    Post::author()
                        .eq(1u64)
                        .and(Post::created().between(0i64, 100i64))
                        .and(Post::created().gte(50i64)),
                )
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1), range created BETWEEN 0 AND 100 AND created >= 50",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_author_created",
                    vec![k(1u64)],
                    range(Some((k(50i64), true)), Some((k(100i64), true)), &[1, 2]),
                )
                .pinned(&[0]),
            case::<Post>("a range on a column after the next is a post-filter")
                .filter(Post::status().gt("a").and(Post::score().gt(3i64)))
                .describe(&[
                    "access: index by_status_score (1 probe), range status > \"a\"",
                    "order: index order (ascending)",
                    "post-filter: score > 3",
                ])
                .index(
                    "by_status_score",
                    vec![vec![]],
                    range(Some((k("a".to_string()), false)), None, &[0]),
                )
                .residual("score > 3"),
            case::<Post>("starts_with: a prefix range decided by the range alone")
                .filter(Post::title().starts_with("alpha"))
                .describe(&[
                    "access: index by_title (1 probe), range title starts_with \"alpha\"",
                    "order: index order (ascending)",
                ])
                .index("by_title", vec![vec![]], prefix_range("alpha", &[0])),
            case::<Post>("like 'literal%': a prefix range decided by the range alone")
                .filter(Post::title().like("alpha%"))
                .describe(&[
                    "access: index by_title (1 probe), range title like \"alpha%\"",
                    "order: index order (ascending)",
                ])
                .index("by_title", vec![vec![]], prefix_range("alpha", &[0])),
            case::<Post>("like 'literal%x': a prefix range and a post-filter")
                .filter(Post::title().like("alpha%t"))
                .describe(&[
                    "access: index by_title (1 probe), range title like \"alpha%t\"",
                    "order: index order (ascending)",
                    "post-filter: title like \"alpha%t\"",
                ])
                .index("by_title", vec![vec![]], prefix_range("alpha", &[0]))
                .residual("title like \"alpha%t\""),
            case::<Post>("like without wildcards: a prefix range and a post-filter")
                .filter(Post::title().like("alpha"))
                .describe(&[
                    "access: index by_title (1 probe), range title like \"alpha\"",
                    "order: index order (ascending)",
                    "post-filter: title like \"alpha\"",
                ])
                .index("by_title", vec![vec![]], prefix_range("alpha", &[0]))
                .residual("title like \"alpha\""),
            case::<Post>("like with '_' inside: the range is the literal before it")
                .filter(Post::title().like("al_ha%"))
                .describe(&[
                    "access: index by_title (1 probe), range title like \"al_ha%\"",
                    "order: index order (ascending)",
                    "post-filter: title like \"al_ha%\"",
                ])
                .index("by_title", vec![vec![]], prefix_range("al", &[0]))
                .residual("title like \"al_ha%\""),
            case::<Post>("starts_with on an Option<String> column: a range over Some keys")
                .filter(Post::tag().starts_with("ru"))
                .describe(&[
                    "access: index by_tag (1 probe), range tag starts_with \"ru\"",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_tag",
                    vec![vec![]],
                    range(Some((opt_prefix.clone(), true)), opt_hi, &[0]),
                ),
            case::<Post>("starts_with and a range on one column intersect")
                .filter(
                    Post::title()
                        .starts_with("alpha")
                        .and(Post::title().lt("alphabet")),
                )
                .describe(&[
                    "access: index by_title (1 probe), range title starts_with \"alpha\" AND title < \"alphabet\"",
                    "order: index order (ascending)",
                ])
                .index(
                    "by_title",
                    vec![vec![]],
                    range(
                        Some((<String as StrColumn>::key_prefix("alpha"), true)),
                        Some((k("alphabet".to_string()), false)),
                        &[0, 1],
                    ),
                ),
            case::<Post>("a residual post-filter beside an index")
                .filter(Post::status().eq("live").and(Post::title().contains("e")))
                .describe(&[
                    "access: index by_status_score (1 probe: status = \"live\")",
                    "order: index order (ascending)",
                    "post-filter: title contains \"e\"",
                ])
                .index("by_status_score", vec![k("live".to_string())], ColRange::default())
                .pinned(&[0])
                .residual("title contains \"e\""),
            case::<Post>("several post-filters beside an index print as one AND")
                .filter(
                    Post::status()
                        .eq("live")
                        .and(Post::title().contains("e"))
                        .and(Post::body().ne("x")),
                )
                .describe(&[
                    "access: index by_status_score (1 probe: status = \"live\")",
                    "order: index order (ascending)",
                    "post-filter: (title contains \"e\" AND body != \"x\")",
                ])
                .index("by_status_score", vec![k("live".to_string())], ColRange::default())
                .pinned(&[0])
                .residual("(title contains \"e\" AND body != \"x\")"),
        ]);
    }

    #[test]
    fn order() {
        run(vec![
            case::<Post>("order served by the index, ascending")
                .filter(Post::author().eq(1u64))
                .order(&[(CREATED, false)])
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1)",
                    "order: index order (ascending)",
                ])
                .index("by_author_created", vec![k(1u64)], ColRange::default())
                .pinned(&[0]),
            case::<Post>("order served by the index, descending: reverse scan")
                .filter(Post::author().eq(1u64))
                .order(&[(CREATED, true)])
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1)",
                    "order: served by the index (descending)",
                ])
                .index("by_author_created", vec![k(1u64)], ColRange::default())
                .pinned(&[0])
                .reverse(),
            case::<Post>("order on a column pinned to one value is skipped")
                .filter(Post::author().eq(1u64))
                .order(&[(AUTHOR, false), (CREATED, true)])
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1)",
                    "order: served by the index (descending)",
                ])
                .index("by_author_created", vec![k(1u64)], ColRange::default())
                .pinned(&[0])
                .reverse(),
            case::<Post>("order only on a column pinned to one value")
                .filter(Post::author().eq(1u64))
                .order(&[(AUTHOR, true)])
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1)",
                    "order: index order (ascending)",
                ])
                .index("by_author_created", vec![k(1u64)], ColRange::default())
                .pinned(&[0]),
            case::<Post>("order on the range column, descending")
                .filter(Post::author().eq(1u64).and(Post::created().gt(10i64)))
                .order(&[(CREATED, true)])
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1), range created > 10",
                    "order: served by the index (descending)",
                ])
                .index(
                    "by_author_created",
                    vec![k(1u64)],
                    range(Some((k(10i64), false)), None, &[1]),
                )
                .pinned(&[0])
                .reverse(),
            case::<Post>("order by an indexed column, no filter: reads that index")
                .order(&[(TITLE, false)])
                .describe(&[
                    "access: index by_title (1 probe)",
                    "order: index order (ascending)",
                ])
                .index("by_title", vec![vec![]], ColRange::default()),
            case::<Post>("order desc by an indexed column, no filter: reverse scan")
                .order(&[(TITLE, true)])
                .describe(&[
                    "access: index by_title (1 probe)",
                    "order: served by the index (descending)",
                ])
                .index("by_title", vec![vec![]], ColRange::default())
                .reverse(),
            case::<Post>("order by both columns of a compound index, descending")
                .order(&[(STATUS, true), (SCORE, true)])
                .describe(&[
                    "access: index by_status_score (1 probe)",
                    "order: served by the index (descending)",
                ])
                .index("by_status_score", vec![vec![]], ColRange::default())
                .reverse(),
            case::<Post>("order served, filter not: index read with a full-scan post-filter")
                .filter(Post::body().eq("x"))
                .order(&[(TITLE, false)])
                .describe(&[
                    "access: index by_title (1 probe)",
                    "order: index order (ascending)",
                    "post-filter: body = \"x\"",
                ])
                .index("by_title", vec![vec![]], ColRange::default())
                .residual("body = \"x\"")
                .full_scan(),
            case::<Post>("order not served by the chosen index: sorted in memory")
                .filter(Post::author().eq(1u64))
                .order(&[(TITLE, true)])
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1)",
                    "order: sorted in memory by title desc",
                ])
                .index("by_author_created", vec![k(1u64)], ColRange::default())
                .pinned(&[0])
                .sort(&[(TITLE, true)]),
            case::<Post>("order longer than the index's remaining columns: sorted in memory")
                .filter(Post::author().eq(1u64))
                .order(&[(CREATED, false), (TITLE, false)])
                .describe(&[
                    "access: index by_author_created (1 probe: author = 1)",
                    "order: sorted in memory by created asc, title asc",
                ])
                .index("by_author_created", vec![k(1u64)], ColRange::default())
                .pinned(&[0])
                .sort(&[(CREATED, false), (TITLE, false)]),
            case::<Post>("order on a multi-valued pinned column: sorted in memory")
                .filter(Post::author().in_([1u64, 3]))
                .order(&[(AUTHOR, false)])
                .describe(&[
                    "access: index by_author_created (2 probes: author IN [1, 3])",
                    "order: sorted in memory by author asc",
                ])
                .index("by_author_created", vec![k(1u64), k(3u64)], ColRange::default())
                .pinned(&[0])
                .sort(&[(AUTHOR, false)]),
            case::<Post>("several probes merged in order, descending")
                .filter(Post::author().in_([3u64, 1]))
                .order(&[(CREATED, true)])
                .describe(&[
                    "access: index by_author_created (2 probes: author IN [1, 3])",
                    "order: served by the index (descending), probes merged",
                ])
                .index("by_author_created", vec![k(1u64), k(3u64)], ColRange::default())
                .pinned(&[0])
                .reverse()
                .merge(),
            case::<Post>("several probes (same-column or) merged in order, ascending")
                .filter(Post::author().eq(3u64).or(Post::author().eq(1u64)))
                .order(&[(CREATED, false)])
                .describe(&[
                    "access: index by_author_created (2 probes: (author = 3 OR author = 1))",
                    "order: served by the index (ascending), probes merged",
                ])
                .index("by_author_created", vec![k(1u64), k(3u64)], ColRange::default())
                .pinned(&[0])
                .merge(),
            case::<Post>("several probes and a range, merged in order")
                .filter(
                    Post::author()
                        .in_([1u64, 3])
                        .and(Post::created().lt(30i64)),
                )
                .order(&[(CREATED, false)])
                .describe(&[
                    "access: index by_author_created (2 probes: author IN [1, 3]), range created < 30",
                    "order: served by the index (ascending), probes merged",
                ])
                .index(
                    "by_author_created",
                    vec![k(1u64), k(3u64)],
                    range(None, Some((k(30i64), false)), &[1]),
                )
                .pinned(&[0])
                .merge(),
        ]);
    }

    #[test]
    fn forced_index() {
        run(vec![
            case::<Post>("using an index the filter does not narrow: full scan, post-filter")
                .filter(Post::author().eq(1u64))
                .using("by_title")
                .describe(&[
                    "access: index by_title (1 probe)",
                    "order: index order (ascending)",
                    "post-filter: author = 1",
                ])
                .index("by_title", vec![vec![]], ColRange::default())
                .residual("author = 1")
                .full_scan(),
            case::<Post>("using an index the rule would not choose")
                .filter(
                    Post::author()
                        .eq(1u64)
                        .and(Post::created().eq(2i64))
                        .and(Post::title().eq("a")),
                )
                .using("by_title")
                .describe(&[
                    "access: index by_title (1 probe: title = \"a\")",
                    "order: index order (ascending)",
                    "post-filter: (author = 1 AND created = 2)",
                ])
                .index("by_title", vec![k("a".to_string())], ColRange::default())
                .pinned(&[2])
                .residual("(author = 1 AND created = 2)"),
            case::<Post>("using an index that serves the order only")
                .order(&[(TITLE, true)])
                .using("by_title")
                .describe(&[
                    "access: index by_title (1 probe)",
                    "order: served by the index (descending)",
                ])
                .index("by_title", vec![vec![]], ColRange::default())
                .reverse(),
            case::<Post>("using an index that serves neither filter nor order")
                .order(&[(BODY, false)])
                .using("by_title")
                .describe(&[
                    "access: index by_title (1 probe)",
                    "order: sorted in memory by body asc",
                ])
                .index("by_title", vec![vec![]], ColRange::default())
                .sort(&[(BODY, false)])
                .full_scan(),
            case::<Post>("using an index with no filter and no order")
                .using("by_slug")
                .describe(&[
                    "access: index by_slug (1 probe)",
                    "order: index order (ascending)",
                ])
                .index("by_slug", vec![vec![]], ColRange::default()),
        ]);
    }

    #[test]
    fn tie_breaks() {
        // Tie's indexes, declared in this order: by_a [a], by_b [b], by_a_c [a, c], by_a_d [a, d].
        run(vec![
            case::<Tie>("most pinned columns wins over declared first")
                .filter(
                    Tie::b()
                        .eq(3u32)
                        .and(Tie::a().eq(1u32))
                        .and(Tie::c().eq(2u32)),
                )
                .describe(&[
                    "access: index by_a_c (1 probe: a = 1, c = 2)",
                    "order: index order (ascending)",
                    "post-filter: b = 3",
                ])
                .index(
                    "by_a_c",
                    vec![cat(&[k(1u32), k(2u32)])],
                    ColRange::default(),
                )
                .pinned(&[1, 2])
                .residual("b = 3"),
            case::<Tie>("more pinned columns beats a range")
                .filter(
                    Tie::a()
                        .eq(1u32)
                        .and(Tie::c().eq(2u32))
                        .and(Tie::d().gt(5u32)),
                )
                .describe(&[
                    "access: index by_a_c (1 probe: a = 1, c = 2)",
                    "order: index order (ascending)",
                    "post-filter: d > 5",
                ])
                .index(
                    "by_a_c",
                    vec![cat(&[k(1u32), k(2u32)])],
                    ColRange::default(),
                )
                .pinned(&[0, 1])
                .residual("d > 5"),
            case::<Tie>("equal pins: the one with a range wins")
                .filter(
                    Tie::b()
                        .eq(3u32)
                        .and(Tie::a().eq(1u32))
                        .and(Tie::d().gt(2u32)),
                )
                .describe(&[
                    "access: index by_a_d (1 probe: a = 1), range d > 2",
                    "order: index order (ascending)",
                    "post-filter: b = 3",
                ])
                .index(
                    "by_a_d",
                    vec![k(1u32)],
                    range(Some((k(2u32), false)), None, &[2]),
                )
                .pinned(&[1])
                .residual("b = 3"),
            case::<Tie>("a range beats serving the order")
                .filter(Tie::a().eq(1u32).and(Tie::c().gt(5u32)))
                .order(&[(D, false)])
                .describe(&[
                    "access: index by_a_c (1 probe: a = 1), range c > 5",
                    "order: sorted in memory by d asc",
                ])
                .index(
                    "by_a_c",
                    vec![k(1u32)],
                    range(Some((k(5u32), false)), None, &[1]),
                )
                .pinned(&[0])
                .sort(&[(D, false)]),
            case::<Tie>("equal pins, no range: the one serving the order wins")
                .filter(Tie::b().eq(3u32).and(Tie::a().eq(1u32)))
                .order(&[(D, true)])
                .describe(&[
                    "access: index by_a_d (1 probe: a = 1)",
                    "order: served by the index (descending)",
                    "post-filter: b = 3",
                ])
                .index("by_a_d", vec![k(1u32)], ColRange::default())
                .pinned(&[1])
                .residual("b = 3")
                .reverse(),
            case::<Tie>("serving the order beats fewer probes")
                .filter(Tie::a().in_([1u32, 2]).and(Tie::b().eq(3u32)))
                .order(&[(D, false)])
                .describe(&[
                    "access: index by_a_d (2 probes: a IN [1, 2])",
                    "order: served by the index (ascending), probes merged",
                    "post-filter: b = 3",
                ])
                .index("by_a_d", vec![k(1u32), k(2u32)], ColRange::default())
                .pinned(&[0])
                .residual("b = 3")
                .merge(),
            case::<Tie>("all else equal: fewer probes wins over declared first")
                .filter(Tie::a().in_([1u32, 2, 3]).and(Tie::b().eq(4u32)))
                .describe(&[
                    "access: index by_b (1 probe: b = 4)",
                    "order: index order (ascending)",
                    "post-filter: a IN [1, 2, 3]",
                ])
                .index("by_b", vec![k(4u32)], ColRange::default())
                .pinned(&[1])
                .residual("a IN [1, 2, 3]"),
            case::<Tie>("all else equal: the index declared first, not the part written first")
                .filter(Tie::b().eq(4u32).and(Tie::a().eq(1u32)))
                .describe(&[
                    "access: index by_a (1 probe: a = 1)",
                    "order: index order (ascending)",
                    "post-filter: b = 4",
                ])
                .index("by_a", vec![k(1u32)], ColRange::default())
                .pinned(&[1])
                .residual("b = 4"),
        ]);
    }

    #[test]
    fn schemas_are_what_the_cases_assume() {
        let names = |s: TableSchema| -> Vec<(&'static str, Vec<usize>, bool)> {
            s.indexes
                .iter()
                .map(|i| (i.name, i.columns.clone(), i.unique))
                .collect()
        };
        assert_eq!(
            names(Post::schema()),
            [
                ("by_slug", vec![2], true),
                ("by_title", vec![3], false),
                ("by_tag", vec![4], false),
                ("by_author_created", vec![0, 1], false),
                ("by_status_score", vec![5, 6], false),
            ]
        );
        assert_eq!(
            names(Tie::schema()),
            [
                ("by_a", vec![0], false),
                ("by_b", vec![1], false),
                ("by_a_c", vec![0, 2], false),
                ("by_a_d", vec![0, 3], false),
            ]
        );
        assert_eq!(Post::created().asc().column(), CREATED);
        assert_eq!(Post::body().asc().column(), BODY);
        assert_eq!(Tie::d().asc().column(), D);
        // The probe-cap cases use 64 x 64 = MAX_PROBES.
        assert_eq!(MAX_PROBES, 64 * 64);
        // `is_null` pins the key `None` encodes to.
        assert_eq!(NULL_KEY, k(None::<String>).as_slice());
    }
}
