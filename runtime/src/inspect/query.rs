//! Row queries over the stored schema: conditions, the index choice, order, pages; rows by
//! id with their relations; and the table operations that let the library's job runner purge
//! rows without a Rust type.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Bound;
use std::str::FromStr;

use super::schema::{TableDesc, decode_columns, dynamic_row_facts, index_key};
use super::value::{ColumnType, Value, quote};
use super::{InspectError, Inspector};
use crate::catalog::{TableInfo, full_key, unique_conflict};
use crate::codec::row::RowHeader;
use crate::error::{Error, Result};
use crate::model::OnDelete;
use crate::storage::{self, ReadStore, Sink, Source};
use crate::write::hooks::{DeleteCause, UpdateCause};
use crate::write::{TableOps, WriteTx};

/// A comparison of a [`Condition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        })
    }
}

/// One filter condition, `column op value`, parsed from text such as `email=ada@x`,
/// `views>=10` or `deleted_by!=null`. The value is parsed by the column's stored type when
/// the query runs. `id` and `created_at` are the system columns.
///
/// ```
/// use redorm::inspect::{Condition, Op};
/// let c: Condition = "views>=10".parse().unwrap();
/// assert_eq!((c.column.as_str(), c.op, c.value.as_str()), ("views", Op::Ge, "10"));
/// assert!("=x".parse::<Condition>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The column.
    pub column: String,
    /// The comparison.
    pub op: Op,
    /// The value, as text.
    pub value: String,
}

impl FromStr for Condition {
    type Err = InspectError;

    fn from_str(s: &str) -> std::result::Result<Self, InspectError> {
        let bad = |reason: &str| InspectError::BadCondition {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let Some(at) = s.find(['=', '!', '<', '>']) else {
            return Err(bad(
                "expected `column=value` (or !=, <, <=, >, >=), e.g. `email=ada@example.com`",
            ));
        };
        let (column, rest) = s.split_at(at);
        let (op, value) = [
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .iter()
        .find_map(|(text, op)| rest.strip_prefix(text).map(|v| (*op, v)))
        .ok_or_else(|| bad("`!` must be followed by `=`"))?;
        let column = column.trim();
        if column.is_empty() {
            return Err(bad("no column before the comparison"));
        }
        if !column.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(bad("a column name is letters, digits and `_`"));
        }
        Ok(Condition {
            column: column.to_string(),
            op,
            value: value.to_string(),
        })
    }
}

/// Which rows a query shows by their soft-delete state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deleted {
    /// Live rows only (what the application's queries see).
    #[default]
    Exclude,
    /// Live and soft-deleted rows.
    Include,
    /// Soft-deleted rows only.
    Only,
}

impl Deleted {
    fn shows(self, header: &RowHeader) -> bool {
        match self {
            Deleted::Exclude => header.deleted.is_none(),
            Deleted::Include => true,
            Deleted::Only => header.deleted.is_some(),
        }
    }
}

/// A query of one stored table; see the [module docs](super) for the index choice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowQuery {
    /// The table.
    pub table: String,
    /// Conditions, all of which a row must meet.
    pub conditions: Vec<Condition>,
    /// An index to read (instead of the planner's choice).
    pub index: Option<String>,
    /// The order: a column (or `id`, `created_at`) and whether descending. `None`: the order
    /// of what is read (id order for the row table, key order for an index).
    pub order: Option<(String, bool)>,
    /// Most rows in the page (`None`: all).
    pub limit: Option<usize>,
    /// Where the page starts: [`RowPage::next`] of the page before.
    pub cursor: Option<String>,
    /// Soft-deleted rows shown.
    pub deleted: Deleted,
}

impl RowQuery {
    /// All live rows of `table`.
    pub fn new(table: impl Into<String>) -> RowQuery {
        RowQuery {
            table: table.into(),
            ..RowQuery::default()
        }
    }

    /// Adds a condition.
    pub fn filter(mut self, condition: Condition) -> RowQuery {
        self.conditions.push(condition);
        self
    }

    /// Reads index `name`.
    pub fn index(mut self, name: impl Into<String>) -> RowQuery {
        self.index = Some(name.into());
        self
    }

    /// Orders by `column`.
    pub fn order_by(mut self, column: impl Into<String>, descending: bool) -> RowQuery {
        self.order = Some((column.into(), descending));
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: usize) -> RowQuery {
        self.limit = Some(n);
        self
    }

    /// Starts after `cursor`.
    pub fn after(mut self, cursor: impl Into<String>) -> RowQuery {
        self.cursor = Some(cursor.into());
        self
    }

    /// Which rows by soft-delete state.
    pub fn deleted(mut self, deleted: Deleted) -> RowQuery {
        self.deleted = deleted;
        self
    }
}

/// What a query reads, as [`RowPage::plan`] and [`Inspector::explain`] report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The table.
    pub table: String,
    /// The index read (`None`: the row table).
    pub index: Option<String>,
    /// Whether that index is unique.
    pub unique: bool,
    /// The conditions the index (or the id range) narrows to, as text.
    pub bounds: Vec<String>,
    /// The conditions checked on each row read that the bounds do not cover.
    pub residual: Vec<String>,
    /// Whether reading is in descending order.
    pub reverse: bool,
    /// The column rows are sorted by in memory after reading (an order no index serves).
    pub sorted_by: Option<String>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.index {
            Some(index) => write!(
                f,
                "{}index `{index}` of `{}`",
                if self.unique { "unique " } else { "" },
                self.table
            )?,
            None => write!(f, "rows of `{}`", self.table)?,
        }
        if self.bounds.is_empty() {
            f.write_str(if self.index.is_some() {
                " (every entry)"
            } else {
                " (full scan)"
            })?;
        } else {
            write!(f, ": {}", self.bounds.join(", "))?;
        }
        if self.reverse {
            f.write_str(", backwards")?;
        }
        if !self.residual.is_empty() {
            write!(f, "; then checks {}", self.residual.join(", "))?;
        }
        if let Some(col) = &self.sorted_by {
            write!(f, "; then sorts by `{col}` in memory")?;
        }
        Ok(())
    }
}

/// Related rows loaded with [`Inspector::get`].
#[derive(Debug, Clone, PartialEq)]
pub enum Related {
    /// A `belongs_to` relation: the row the foreign key points at (`None`: the key is
    /// `None`, or the row is gone or hidden by the soft-delete filter).
    One(Option<Box<Row>>),
    /// A `has_many`, `has_one` or `many_to_many` relation: the related rows, in id order.
    Many(Vec<Row>),
}

/// One stored row, decoded by the stored schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its table.
    pub table: String,
    /// Its id.
    pub id: u64,
    /// When it was inserted (milliseconds since the Unix epoch).
    pub created_at: i64,
    /// When it was soft-deleted, if it was.
    pub deleted_at: Option<i64>,
    /// The current columns' values, in column order.
    pub columns: Vec<(String, Value)>,
    /// Relations loaded with it, in the order asked.
    pub relations: Vec<(String, Related)>,
    /// For each column, the table its foreign key points into.
    targets: Vec<Option<String>>,
}

impl Row {
    /// The row as one line of JSON: `id` as `"table:id"`, `created_at`, `deleted_at` when
    /// soft-deleted, the columns in order (foreign keys as `"table:id"`), then the relations.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        out.push_str("{\"id\":");
        out.push_str(&quote(&format!("{}:{}", self.table, self.id)));
        out.push_str(&format!(",\"created_at\":{}", self.created_at));
        if let Some(at) = self.deleted_at {
            out.push_str(&format!(",\"deleted_at\":{at}"));
        }
        for (i, (name, value)) in self.columns.iter().enumerate() {
            out.push(',');
            out.push_str(&quote(name));
            out.push(':');
            value.write_json(out, self.targets.get(i).and_then(Option::as_deref));
        }
        for (name, related) in &self.relations {
            out.push(',');
            out.push_str(&quote(name));
            out.push(':');
            match related {
                Related::One(None) => out.push_str("null"),
                Related::One(Some(row)) => row.write_json(out),
                Related::Many(rows) => {
                    out.push('[');
                    for (i, row) in rows.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        row.write_json(out);
                    }
                    out.push(']');
                }
            }
        }
        out.push('}');
    }

    /// The row's fields as names and plain text, for a table: `id`, `created_at`,
    /// `deleted_at` (when `with_deleted_at`; empty for a live row), then the columns.
    pub fn fields(&self, with_deleted_at: bool) -> Vec<(String, String)> {
        let mut out = vec![
            ("id".to_string(), format!("{}:{}", self.table, self.id)),
            ("created_at".to_string(), self.created_at.to_string()),
        ];
        if with_deleted_at {
            out.push((
                "deleted_at".to_string(),
                self.deleted_at.map(|d| d.to_string()).unwrap_or_default(),
            ));
        }
        for (i, (name, value)) in self.columns.iter().enumerate() {
            let text = match (value, self.targets.get(i).and_then(Option::as_deref)) {
                (Value::Id(id), Some(table)) => format!("{table}:{id}"),
                (v, _) => v.to_string(),
            };
            out.push((name.clone(), text));
        }
        out
    }
}

/// A page of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPage {
    /// The rows.
    pub rows: Vec<Row>,
    /// The cursor of the next page (`None`: this is the last). It is the inspector's own
    /// (a position in what the plan reads), not the application's sealed cursor.
    pub next: Option<String>,
    /// What was read.
    pub plan: Plan,
}

/// A column of a query: a stored column, or a system one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Id,
    CreatedAt,
    Stored(usize),
}

struct Resolved {
    col: Col,
    op: Op,
    value: Value,
    /// The key form of the value (what comparisons use).
    key: Vec<u8>,
    /// Whether an index may serve it (not for `Json` columns: their key is the JSON text as
    /// the application serialized it, which the given text need not match).
    indexable: bool,
    text: String,
}

enum Access {
    Rows {
        lo: Bound<u64>,
        hi: Bound<u64>,
    },
    Index {
        pos: usize,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
    },
}

fn col_type(desc: &TableDesc, col: Col) -> std::result::Result<ColumnType, InspectError> {
    match col {
        Col::Id => Ok(ColumnType::Id),
        Col::CreatedAt => Ok(ColumnType::Signed(64)),
        Col::Stored(pos) => desc.column_type(pos).cloned(),
    }
}

fn resolve_col(desc: &TableDesc, name: &str) -> std::result::Result<Col, InspectError> {
    match name {
        "id" => Ok(Col::Id),
        "created_at" => Ok(Col::CreatedAt),
        _ => desc.column(name).map(|(pos, _)| Col::Stored(pos)),
    }
}

fn key_of(ty: &ColumnType, value: &Value) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    ty.encode_key(value, &mut out).ok().map(|()| out)
}

/// The value of `col` in a decoded row.
fn value_of(col: Col, id: u64, header: &RowHeader, values: &[Value]) -> Value {
    match col {
        Col::Id => Value::Id(id),
        Col::CreatedAt => Value::Int(i128::from(header.created_at)),
        Col::Stored(pos) => values.get(pos).cloned().unwrap_or(Value::Default),
    }
}

fn meets(c: &Resolved, ty: &ColumnType, value: &Value) -> bool {
    let ord = if let (Value::Json(a), Value::Json(b)) = (value, &c.value) {
        let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
        if parse(a) == parse(b) {
            Ordering::Equal
        } else {
            a.as_bytes().cmp(b.as_bytes())
        }
    } else {
        match key_of(ty, value) {
            Some(k) => k.cmp(&c.key),
            None => return false,
        }
    };
    match c.op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    }
}

fn is_range(op: Op) -> bool {
    matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge)
}

/// Tightens `[lo, hi]` on key bytes by range condition `c`.
fn tighten(c: &Resolved, lo: &mut Option<(Vec<u8>, bool)>, hi: &mut Option<(Vec<u8>, bool)>) {
    let key = c.key.clone();
    match c.op {
        Op::Gt | Op::Ge => {
            let inc = c.op == Op::Ge;
            let replace = lo
                .as_ref()
                .is_none_or(|(k, i)| key > *k || (key == *k && *i && !inc));
            if replace {
                *lo = Some((key, inc));
            }
        }
        Op::Lt | Op::Le => {
            let inc = c.op == Op::Le;
            let replace = hi
                .as_ref()
                .is_none_or(|(k, i)| key < *k || (key == *k && *i && !inc));
            if replace {
                *hi = Some((key, inc));
            }
        }
        Op::Eq | Op::Ne => {}
    }
}

fn concat(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = a.to_vec();
    out.extend_from_slice(b);
    out
}

/// The smallest key above every key starting with `prefix`, as an exclusive bound.
fn after_prefix(prefix: &[u8]) -> Bound<Vec<u8>> {
    storage::prefix_upper_bound(prefix).map_or(Bound::Unbounded, Bound::Excluded)
}

/// A query resolved against its table: slot, conditions, order, plan.
type Prepared = (usize, Vec<Resolved>, Option<(Col, bool)>, Planned);

struct Planned {
    plan: Plan,
    access: Access,
    /// Serves the requested order (else rows are sorted in memory).
    ordered: bool,
}

fn plan(
    desc: &TableDesc,
    info: &TableInfo,
    conds: &[Resolved],
    forced: Option<usize>,
    order: Option<(Col, bool)>,
) -> Planned {
    let desc_order = order.is_some_and(|(_, d)| d);
    let mut plan = Plan {
        table: desc.name.clone(),
        index: None,
        unique: false,
        bounds: Vec::new(),
        residual: Vec::new(),
        reverse: desc_order,
        sorted_by: None,
    };
    // Each index: how many leading columns have equality conditions, whether the next has a
    // range.
    let shape = |pos: usize| -> (usize, bool) {
        let cols = &info.schema.indexes[pos].columns;
        let eq = |col: usize| {
            conds
                .iter()
                .any(|c| c.indexable && c.op == Op::Eq && c.col == Col::Stored(col))
        };
        let n = cols.iter().take_while(|&&c| eq(c)).count();
        let range = cols.get(n).is_some_and(|&col| {
            conds
                .iter()
                .any(|c| c.indexable && is_range(c.op) && c.col == Col::Stored(col))
        });
        (n, range)
    };
    let id_range = conds.iter().any(|c| c.col == Col::Id && c.op != Op::Ne);
    let chosen = forced.or_else(|| {
        if id_range && conds.iter().any(|c| c.col == Col::Id && c.op == Op::Eq) {
            return None;
        }
        let mut best: Option<(usize, usize, bool)> = None;
        for pos in 0..info.schema.indexes.len() {
            let (n, range) = shape(pos);
            if n == 0 && !range {
                continue;
            }
            let better = best.is_none_or(|(_, bn, br)| (n, range) > (bn, br));
            if better {
                best = Some((pos, n, range));
            }
        }
        if best.is_none() && !id_range {
            // No condition an index serves: an index can still serve the order.
            if let Some((Col::Stored(col), _)) = order {
                return info
                    .schema
                    .indexes
                    .iter()
                    .position(|i| i.columns.first() == Some(&col));
            }
        }
        best.map(|(pos, _, _)| pos)
    });
    let mut used = vec![false; conds.len()];
    let (access, ordered) = match chosen {
        Some(pos) => {
            let index = &info.schema.indexes[pos];
            plan.index = Some(index.name.to_string());
            plan.unique = index.unique;
            let (n, range) = shape(pos);
            let mut prefix = Vec::new();
            for &col in &index.columns[..n] {
                if let Some((i, c)) = conds
                    .iter()
                    .enumerate()
                    .find(|(_, c)| c.indexable && c.op == Op::Eq && c.col == Col::Stored(col))
                {
                    prefix.extend_from_slice(&c.key);
                    used[i] = true;
                    plan.bounds.push(c.text.clone());
                }
            }
            let (mut lo_key, mut hi_key) = (None, None);
            if range {
                let col = index.columns[n];
                for (i, c) in conds.iter().enumerate() {
                    if c.indexable && is_range(c.op) && c.col == Col::Stored(col) {
                        tighten(c, &mut lo_key, &mut hi_key);
                        used[i] = true;
                        plan.bounds.push(c.text.clone());
                    }
                }
            }
            let lo = match lo_key {
                Some((k, true)) => Bound::Included(concat(&prefix, &k)),
                Some((k, false)) => after_prefix(&concat(&prefix, &k)),
                None => Bound::Included(prefix.clone()),
            };
            let hi = match hi_key {
                Some((k, true)) => after_prefix(&concat(&prefix, &k)),
                Some((k, false)) => Bound::Excluded(concat(&prefix, &k)),
                None => after_prefix(&prefix),
            };
            let ordered = match order {
                None => true,
                // Equal on every indexed column: entries are in id order (and so in
                // creation order).
                Some((Col::Id | Col::CreatedAt, _)) => n == index.columns.len(),
                Some((Col::Stored(col), _)) => {
                    index.columns.get(n) == Some(&col)
                        || (index.columns[..n].contains(&col) && n + 1 >= index.columns.len())
                }
            };
            (Access::Index { pos, lo, hi }, ordered)
        }
        None => {
            let (mut lo, mut hi) = (Bound::Unbounded, Bound::Unbounded);
            for (i, c) in conds.iter().enumerate() {
                let Value::Id(id) = c.value else { continue };
                if c.col != Col::Id || c.op == Op::Ne {
                    continue;
                }
                used[i] = true;
                plan.bounds.push(c.text.clone());
                let (l, h) = match c.op {
                    Op::Eq => (Bound::Included(id), Bound::Included(id)),
                    Op::Gt => (Bound::Excluded(id), Bound::Unbounded),
                    Op::Ge => (Bound::Included(id), Bound::Unbounded),
                    Op::Lt => (Bound::Unbounded, Bound::Excluded(id)),
                    _ => (Bound::Unbounded, Bound::Included(id)),
                };
                lo = max_lo(lo, l);
                hi = min_hi(hi, h);
            }
            let ordered = matches!(order, None | Some((Col::Id | Col::CreatedAt, _)));
            (Access::Rows { lo, hi }, ordered)
        }
    };
    plan.residual = conds
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(c, _)| c.text.clone())
        .collect();
    if !ordered {
        plan.reverse = false;
        plan.sorted_by = order.map(|(col, d)| {
            let name = match col {
                Col::Id => "id".to_string(),
                Col::CreatedAt => "created_at".to_string(),
                Col::Stored(pos) => desc
                    .columns
                    .get(pos)
                    .map_or_else(String::new, |c| c.name.clone()),
            };
            if d {
                format!("{name} descending")
            } else {
                name
            }
        });
    }
    Planned {
        plan,
        access,
        ordered,
    }
}

fn max_lo(a: Bound<u64>, b: Bound<u64>) -> Bound<u64> {
    let rank = |x: &Bound<u64>| match x {
        Bound::Unbounded => (0, 0),
        Bound::Included(v) => (*v, 1),
        Bound::Excluded(v) => (*v, 2),
    };
    if rank(&b) > rank(&a) { b } else { a }
}

fn min_hi(a: Bound<u64>, b: Bound<u64>) -> Bound<u64> {
    let rank = |x: &Bound<u64>| match x {
        Bound::Unbounded => (u64::MAX, 3),
        Bound::Included(v) => (*v, 2),
        Bound::Excluded(v) => (*v, 1),
    };
    if rank(&b) < rank(&a) { b } else { a }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|d| u8::from_str_radix(d, 16).ok()))
        .collect()
}

/// A decoded row and where it was read.
struct Found {
    id: u64,
    header: RowHeader,
    values: Vec<Value>,
    /// Its position in the read: the index key, or the id.
    position: Vec<u8>,
}

impl Inspector {
    fn resolve(
        &self,
        desc: &TableDesc,
        conds: &[Condition],
    ) -> std::result::Result<Vec<Resolved>, InspectError> {
        conds
            .iter()
            .map(|c| {
                let col = resolve_col(desc, &c.column)?;
                let ty = col_type(desc, col)?;
                if c.column == "id"
                    && let Some((table, _)) = c.value.rsplit_once(':')
                    && table != desc.name
                {
                    return Err(InspectError::BadValue {
                        table: desc.name.clone(),
                        column: c.column.clone(),
                        reason: format!("`{}` is an id of table `{table}`", c.value),
                    });
                }
                let value = ty
                    .parse_value(&c.value)
                    .map_err(|reason| InspectError::BadValue {
                        table: desc.name.clone(),
                        column: c.column.clone(),
                        reason,
                    })?;
                let key = key_of(&ty, &value).ok_or_else(|| InspectError::BadValue {
                    table: desc.name.clone(),
                    column: c.column.clone(),
                    reason: format!("`{}` has no key form", c.value),
                })?;
                Ok(Resolved {
                    col,
                    op: c.op,
                    indexable: ty.keyable(),
                    value,
                    key,
                    text: format!("{} {} {}", c.column, c.op, c.value),
                })
            })
            .collect()
    }

    fn prepare(&self, q: &RowQuery) -> std::result::Result<Prepared, InspectError> {
        let slot = self.slot(&q.table)?;
        let desc = &self.tables()[slot];
        let info = self.info(slot);
        let conds = self.resolve(desc, &q.conditions)?;
        let order = match &q.order {
            None => None,
            Some((name, d)) => Some((resolve_col(desc, name)?, *d)),
        };
        let forced = match &q.index {
            None => None,
            Some(name) => Some(
                desc.indexes
                    .iter()
                    .position(|i| i.name == *name)
                    .ok_or_else(|| InspectError::UnknownIndex {
                        table: desc.name.clone(),
                        index: name.clone(),
                        known: desc.indexes.iter().map(|i| i.name.clone()).collect(),
                    })?,
            ),
        };
        let planned = plan(desc, info, &conds, forced, order);
        Ok((slot, conds, order, planned))
    }

    /// What [`rows`](Self::rows) would read for `query`, without reading it.
    pub fn explain(&self, query: &RowQuery) -> std::result::Result<Plan, InspectError> {
        Ok(self.prepare(query)?.3.plan)
    }

    /// A page of the rows of `query`. See the [module docs](super) for the index choice.
    pub fn rows(&self, query: &RowQuery) -> std::result::Result<RowPage, InspectError> {
        let (slot, conds, order, planned) = self.prepare(query)?;
        let desc = &self.tables()[slot];
        let info = self.info(slot);
        let table = info.schema.name;
        let types: Vec<ColumnType> = conds
            .iter()
            .map(|c| col_type(desc, c.col))
            .collect::<std::result::Result<_, _>>()?;
        let store = ReadStore::begin(&self.db().inner.engine)?;
        let bad_cursor = |reason: &str| InspectError::BadCursor {
            cursor: query.cursor.clone().unwrap_or_default(),
            reason: reason.to_string(),
        };
        let limit = query.limit.unwrap_or(usize::MAX);
        let reverse = planned.ordered && order.is_some_and(|(_, d)| d);
        let keep = |id: u64, header: &RowHeader, values: &[Value]| {
            query.deleted.shows(header)
                && conds
                    .iter()
                    .zip(&types)
                    .all(|(c, ty)| meets(c, ty, &value_of(c.col, id, header, values)))
        };
        let mut found: Vec<Found> = Vec::new();
        // Read in the plan's order; stop at one row past the page when that order is the
        // page's.
        let want = if planned.ordered {
            limit.saturating_add(1)
        } else {
            usize::MAX
        };
        let not_ours = || bad_cursor("not a cursor of the inspector");
        // Where the page starts: after a row id, after an index key, or at an offset of
        // rows sorted in memory; each matches one kind of plan.
        let (after_id, after_key, offset) = match (&query.cursor, &planned.access) {
            (None, _) => (None, None, 0),
            (Some(c), _) if !planned.ordered => (
                None,
                None,
                c.strip_prefix('o')
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(not_ours)?,
            ),
            (Some(c), Access::Rows { .. }) => {
                let bytes = c.strip_prefix('r').and_then(unhex).ok_or_else(not_ours)?;
                let id = <[u8; 8]>::try_from(bytes.as_slice())
                    .map(u64::from_be_bytes)
                    .map_err(|_| not_ours())?;
                (Some(id), None, 0)
            }
            (Some(c), Access::Index { .. }) => {
                let key = c.strip_prefix('k').and_then(unhex).ok_or_else(not_ours)?;
                (None, Some(key), 0)
            }
        };
        match &planned.access {
            Access::Rows { lo, hi } => {
                let (mut lo, mut hi) = (*lo, *hi);
                if let Some(id) = after_id {
                    if reverse {
                        hi = min_hi(hi, Bound::Excluded(id));
                    } else {
                        lo = max_lo(lo, Bound::Excluded(id));
                    }
                }
                store.scan_rows(table, lo, hi, reverse, &mut |id, bytes| {
                    let (header, values) = decode_columns(info, id, bytes)?;
                    if keep(id, &header, &values) {
                        found.push(Found {
                            id,
                            header,
                            values,
                            position: id.to_be_bytes().to_vec(),
                        });
                    }
                    Ok(found.len() < want)
                })?;
            }
            Access::Index { pos, lo, hi } => {
                let (mut lo, mut hi) = (lo.clone(), hi.clone());
                if let Some(key) = after_key {
                    // Conditions are checked on every row read, so a cursor outside the
                    // plan's range only reads more, never shows a row it should not.
                    if reverse {
                        let below = match &hi {
                            Bound::Included(h) | Bound::Excluded(h) => key < *h,
                            Bound::Unbounded => true,
                        };
                        if below {
                            hi = Bound::Excluded(key);
                        }
                    } else {
                        let above = match &lo {
                            Bound::Included(l) | Bound::Excluded(l) => key >= *l,
                            Bound::Unbounded => true,
                        };
                        if above {
                            lo = Bound::Excluded(key);
                        }
                    }
                }
                let index_table = &info.index_tables[*pos];
                let mut failure = None;
                store.scan_index(
                    index_table,
                    lo.as_ref().map(Vec::as_slice),
                    hi.as_ref().map(Vec::as_slice),
                    reverse,
                    &mut |key| {
                        let id = storage::row_id_of_key(index_table, key)?;
                        let row = store.with_row(table, id, |bytes| decode_columns(info, id, bytes))?;
                        let Some((header, values)) = row else {
                            failure = Some(Error::Corrupt {
                                table: table.to_string(),
                                id: Some(id),
                                column: None,
                                detail: format!(
                                    "index `{index_table}` has an entry for this row, which does not exist; run `check`"
                                ),
                            });
                            return Ok(false);
                        };
                        if keep(id, &header, &values) {
                            found.push(Found {
                                id,
                                header,
                                values,
                                position: key.to_vec(),
                            });
                        }
                        Ok(found.len() < want)
                    },
                )?;
                if let Some(e) = failure {
                    return Err(e.into());
                }
            }
        }
        let (found, next) = if planned.ordered {
            let more = found.len() > limit;
            let mut found = found;
            found.truncate(limit);
            let next = match (more, found.last()) {
                (true, Some(last)) => Some(format!(
                    "{}{}",
                    if matches!(planned.access, Access::Rows { .. }) {
                        'r'
                    } else {
                        'k'
                    },
                    hex(&last.position)
                )),
                _ => None,
            };
            (found, next)
        } else {
            let Some((col, d)) = order else {
                return Err(InspectError::BadQuery {
                    table: desc.name.clone(),
                    reason: "internal: an unordered plan without an order".into(),
                });
            };
            let ty = col_type(desc, col)?;
            let mut keyed: Vec<(Vec<u8>, Found)> = found
                .into_iter()
                .map(|f| {
                    let v = value_of(col, f.id, &f.header, &f.values);
                    (key_of(&ty, &v).unwrap_or_default(), f)
                })
                .collect();
            keyed.sort_by(|(a, fa), (b, fb)| a.cmp(b).then(fa.id.cmp(&fb.id)));
            if d {
                keyed.reverse();
            }
            let total = keyed.len();
            let page: Vec<Found> = keyed
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|(_, f)| f)
                .collect();
            let end = offset.saturating_add(page.len());
            let next = (end < total).then(|| format!("o{end}"));
            (page, next)
        };
        let rows = found
            .into_iter()
            .map(|f| self.make_row(slot, f.id, f.header, f.values))
            .collect();
        Ok(RowPage {
            rows,
            next,
            plan: planned.plan,
        })
    }

    fn make_row(&self, slot: usize, id: u64, header: RowHeader, values: Vec<Value>) -> Row {
        let desc = &self.tables()[slot];
        Row {
            table: desc.name.clone(),
            id,
            created_at: header.created_at,
            deleted_at: header.deleted.map(|(at, _)| at),
            targets: desc
                .columns
                .iter()
                .map(|c| desc.foreign_key_of(&c.name).map(|fk| fk.target.clone()))
                .collect(),
            columns: desc
                .columns
                .iter()
                .map(|c| c.name.clone())
                .zip(values)
                .collect(),
            relations: Vec::new(),
        }
    }

    fn load(&self, store: &ReadStore, slot: usize, id: u64) -> Result<Option<Row>> {
        let info = self.info(slot);
        let row = store.with_row(info.schema.name, id, |bytes| {
            decode_columns(info, id, bytes)
        })?;
        Ok(row.map(|(header, values)| self.make_row(slot, id, header, values)))
    }

    /// Row `id` of `table` (soft-deleted or not), with the relations `with` names loaded:
    /// relation names of the table, and paths through them (`posts.comments`). Related rows
    /// are filtered by `deleted`. `None` when the row does not exist.
    ///
    /// A relation is followed by the stored foreign keys: `belongs_to` by the row's own key,
    /// `has_many`/`has_one` by the target table's key pointing here (through the index it
    /// starts), `many_to_many` through the join table's two keys.
    pub fn get(
        &self,
        table: &str,
        id: u64,
        with: &[&str],
        deleted: Deleted,
    ) -> std::result::Result<Option<Row>, InspectError> {
        let slot = self.slot(table)?;
        let store = ReadStore::begin(&self.db().inner.engine)?;
        let Some(mut row) = self.load(&store, slot, id)? else {
            return Ok(None);
        };
        let paths: Vec<Vec<&str>> = with
            .iter()
            .flat_map(|w| w.split(','))
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| w.split('.').collect())
            .collect();
        self.attach(&store, slot, &mut row, &paths, deleted)?;
        Ok(Some(row))
    }

    fn attach(
        &self,
        store: &ReadStore,
        slot: usize,
        row: &mut Row,
        paths: &[Vec<&str>],
        deleted: Deleted,
    ) -> std::result::Result<(), InspectError> {
        // The first step of each path, in the order given, with the rest below it.
        let mut steps: Vec<(&str, Vec<Vec<&str>>)> = Vec::new();
        for path in paths {
            let Some((first, rest)) = path.split_first() else {
                continue;
            };
            match steps.iter_mut().find(|(n, _)| n == first) {
                Some((_, below)) => below.push(rest.to_vec()),
                None => steps.push((first, vec![rest.to_vec()])),
            }
        }
        for (name, below) in steps {
            let below: Vec<Vec<&str>> = below.into_iter().filter(|p| !p.is_empty()).collect();
            let (target_slot, related) = self.follow(store, slot, row, name, deleted)?;
            let related = match related {
                Related::One(Some(mut r)) => {
                    self.attach(store, target_slot, &mut r, &below, deleted)?;
                    Related::One(Some(r))
                }
                Related::Many(mut rows) => {
                    for r in &mut rows {
                        self.attach(store, target_slot, r, &below, deleted)?;
                    }
                    Related::Many(rows)
                }
                none => none,
            };
            row.relations.push((name.to_string(), related));
        }
        Ok(())
    }

    /// The rows relation `name` of `row` (of table `slot`) leads to, and their table.
    fn follow(
        &self,
        store: &ReadStore,
        slot: usize,
        row: &Row,
        name: &str,
        deleted: Deleted,
    ) -> std::result::Result<(usize, Related), InspectError> {
        let desc = &self.tables()[slot];
        let unknown = || InspectError::UnknownRelation {
            table: desc.name.clone(),
            relation: name.to_string(),
            known: desc.relations.iter().map(|r| r.name.clone()).collect(),
        };
        let rel = desc
            .relations
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(unknown)?;
        let target = self.slot(&rel.target)?;
        let shown = |r: &Row| match deleted {
            Deleted::Exclude => r.deleted_at.is_none(),
            Deleted::Include => true,
            Deleted::Only => r.deleted_at.is_some(),
        };
        // belongs_to: this table's own foreign key.
        if let Some(fk) = desc.foreign_keys.iter().find(|fk| fk.relation == name) {
            let value = row
                .columns
                .iter()
                .find(|(c, _)| *c == fk.column)
                .map(|(_, v)| v);
            let one = match value {
                Some(Value::Id(id)) => self.load(store, target, *id)?.filter(shown),
                _ => None,
            };
            return Ok((target, Related::One(one.map(Box::new))));
        }
        let broken = |reason: String| InspectError::BadQuery {
            table: desc.name.clone(),
            reason,
        };
        match &rel.through {
            None => {
                let ids = self
                    .children(store, target, &desc.name, row.id)?
                    .ok_or_else(|| {
                        broken(format!(
                            "relation `{name}`: table `{}` has no foreign key to `{}`",
                            rel.target, desc.name
                        ))
                    })?;
                let mut rows = Vec::new();
                for id in ids {
                    if let Some(r) = self.load(store, target, id)?.filter(shown) {
                        rows.push(r);
                    }
                }
                Ok((target, Related::Many(rows)))
            }
            Some(join) => {
                let join_slot = self.slot(join)?;
                let join_desc = &self.tables()[join_slot];
                let keys: Vec<_> = join_desc
                    .foreign_keys
                    .iter()
                    .filter(|fk| fk.target == rel.target)
                    .collect();
                let to_target = match keys.as_slice() {
                    [one] if rel.target != desc.name => *one,
                    [] => {
                        return Err(broken(format!(
                            "relation `{name}`: join table `{join}` has no foreign key to `{}`",
                            rel.target
                        )));
                    }
                    _ => {
                        return Err(broken(format!(
                            "relation `{name}`: join table `{join}` has several foreign keys to `{}`, and the file does not store which one the relation follows",
                            rel.target
                        )));
                    }
                };
                let links = self
                    .children(store, join_slot, &desc.name, row.id)?
                    .ok_or_else(|| {
                        broken(format!(
                            "relation `{name}`: join table `{join}` has no foreign key to `{}`",
                            desc.name
                        ))
                    })?;
                let mut rows = Vec::new();
                for link in links {
                    let Some(link_row) = self.load(store, join_slot, link)? else {
                        continue;
                    };
                    if link_row.deleted_at.is_some() {
                        continue;
                    }
                    let value = link_row
                        .columns
                        .iter()
                        .find(|(c, _)| *c == to_target.column)
                        .map(|(_, v)| v);
                    if let Some(Value::Id(id)) = value
                        && let Some(r) = self.load(store, target, *id)?.filter(shown)
                    {
                        rows.push(r);
                    }
                }
                rows.sort_by_key(|r| r.id);
                Ok((target, Related::Many(rows)))
            }
        }
    }

    /// The ids of rows of table `slot` whose foreign key to `parent` holds `id`, by the index
    /// that key starts; `None` when it has no such key, an error when it has several (the
    /// relation's `by` field is not stored).
    fn children(
        &self,
        store: &ReadStore,
        slot: usize,
        parent: &str,
        id: u64,
    ) -> std::result::Result<Option<Vec<u64>>, InspectError> {
        let info = self.info(slot);
        let keys: Vec<_> = info
            .schema
            .foreign_keys
            .iter()
            .filter(|fk| fk.target == parent)
            .collect();
        let fk = match keys.as_slice() {
            [] => return Ok(None),
            [one] => *one,
            several => {
                let columns: Vec<&str> = several
                    .iter()
                    .map(|fk| info.schema.columns.get(fk.column).map_or("?", |c| c.name))
                    .collect();
                return Err(InspectError::BadQuery {
                    table: info.schema.name.to_string(),
                    reason: format!(
                        "it has several foreign keys to `{parent}` ({}), and the file does not store which one a relation from `{parent}` follows",
                        columns.join(", ")
                    ),
                });
            }
        };
        let index = crate::catalog::child_index(info, fk.column)?;
        let prefix = storage::fk_prefix(id, fk.nullable);
        let mut ids = storage::probe(store, &info.index_tables[index], &prefix)?;
        ids.sort_unstable();
        ids.dedup();
        Ok(Some(ids))
    }

    pub(crate) fn db(&self) -> &crate::db::Db {
        &self.db
    }
}

// ---- purging without a Rust type ------------------------------------------------------

/// The most tables the inspector runs jobs on: the job runner dispatches by table slot
/// through function pointers, one instance per slot.
pub(crate) const MAX_TABLES: usize = 64;

/// Removes row `id` of table `SLOT` and its index entries (the library's `remove_one`,
/// decoding by the stored schema; the inspector has no hooks).
fn remove_dyn<const SLOT: usize>(tx: &mut WriteTx, id: u64, _: &DeleteCause) -> Result<()> {
    let db = tx.db.clone();
    let info = table_at(&db.tables, SLOT)?;
    let bytes = tx
        .store
        .with_row(info.schema.name, id, |b| Ok(b.to_vec()))?
        .ok_or(Error::NotFound {
            table: info.schema.name,
            id,
        })?;
    let facts = dynamic_row_facts(info, id, &bytes)?;
    for (pos, key) in facts.keys.iter().enumerate() {
        tx.store
            .remove_index(&info.index_tables[pos], &full_key(&key.prefix, id))?;
    }
    tx.store.remove_row(info.schema.name, id)
}

/// Clears foreign key `column` of row `id` (`on_delete = set_null`); `set_default` needs the
/// application's default, which the file does not store.
fn set_fk_dyn<const SLOT: usize>(
    tx: &mut WriteTx,
    id: u64,
    column: usize,
    action: OnDelete,
    _: &'static str,
    _: u64,
) -> Result<()> {
    let db = tx.db.clone();
    let info = table_at(&db.tables, SLOT)?;
    let table = info.schema.name;
    let col_name = info.schema.columns.get(column).map_or("?", |c| c.name);
    if action != OnDelete::SetNull {
        return Err(Error::Schema {
            table: table.to_string(),
            message: format!(
                "`on_delete = set_default` of column `{col_name}` needs the application's default, which the file does not store; run the job from the application"
            ),
        });
    }
    let bytes = tx
        .store
        .with_row(table, id, |b| Ok(b.to_vec()))?
        .ok_or(Error::NotFound { table, id })?;
    let (header, mut values) = decode_columns(info, id, &bytes)?;
    let old_keys = (0..info.schema.indexes.len())
        .map(|pos| index_key(info, pos, &values))
        .collect::<Result<Vec<_>>>()?;
    match values.get_mut(column) {
        Some(v) => *v = Value::Null,
        None => {
            return Err(storage::corrupt(
                table,
                Some(id),
                "foreign key column out of range",
            ));
        }
    }
    let mut out = Vec::with_capacity(bytes.len());
    RowHeader {
        version: info.version,
        ..header
    }
    .write(&mut out);
    for (def, value) in info.schema.columns.iter().zip(&values) {
        let ty = ColumnType::parse(&def.type_name).ok_or_else(|| Error::Encode {
            table,
            column: def.name,
            detail: format!("type `{}` is not one the inspector encodes", def.type_name),
        })?;
        ty.encode_value(value, &mut out)
            .map_err(|e| Error::Encode {
                table,
                column: def.name,
                detail: e.detail,
            })?;
    }
    for (pos, old) in old_keys.iter().enumerate() {
        let new = index_key(info, pos, &values)?;
        if new.prefix == old.prefix {
            continue;
        }
        if new.checked && unique_conflict(&tx.store, info, pos, &new.prefix, Some(id))?.is_some() {
            return Err(Error::Schema {
                table: table.to_string(),
                message: format!(
                    "clearing `{col_name}` of row {table}:{id} would break unique index `{}`",
                    info.schema.indexes[pos].name
                ),
            });
        }
        tx.store
            .remove_index(&info.index_tables[pos], &full_key(&old.prefix, id))?;
        tx.store
            .put_index(&info.index_tables[pos], &full_key(&new.prefix, id))?;
    }
    tx.store.put_row(table, id, &out)
}

fn mark_dyn(_: &mut WriteTx, _: u64, _: Option<(i64, u64)>, _: &UpdateCause) -> Result<()> {
    Err(Error::Unsupported {
        operation: "soft-deleting or restoring rows",
        engine: "the inspector",
    })
}

fn insert_link_dyn(_: &mut WriteTx, _: usize, _: u64, _: usize, _: u64) -> Result<u64> {
    Err(Error::Unsupported {
        operation: "inserting rows",
        engine: "the inspector",
    })
}

fn table_at(tables: &[TableInfo], slot: usize) -> Result<&TableInfo> {
    tables
        .get(slot)
        .ok_or_else(|| storage::corrupt("-", None, format!("no table in slot {slot}")))
}

macro_rules! ops_for {
    ($($slot:literal)*) => {
        vec![$(TableOps {
            remove: remove_dyn::<$slot>,
            set_fk: set_fk_dyn::<$slot>,
            mark: mark_dyn,
            insert_link: insert_link_dyn,
            // The inspector has no rules (it runs jobs as the system).
            guard_delete: |_, _| Ok(()),
        }),*]
    };
}

/// One set of table operations per slot, for the job runner.
pub(crate) fn dynamic_ops() -> Vec<TableOps<WriteTx>> {
    ops_for!(
        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
        32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60
        61 62 63
    )
}
