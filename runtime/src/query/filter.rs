//! Typed filter expressions, built from column descriptors.
//!
//! ```
//! use redorm::prelude::*;
//! #[derive(Table, Debug)]
//! struct User { name: String, age: u32, team: Option<String> }
//!
//! let f = User::age().gte(18u32).and(User::name().starts_with("A")).or(User::team().is_null());
//! assert_eq!(f.to_string(), "((age >= 18 AND name starts_with \"A\") OR team IS NULL)");
//! ```
//!
//! A value of the wrong type, or a column of another table, does not compile:
//!
//! ```compile_fail
//! use redorm::prelude::*;
//! #[derive(Table, Debug)]
//! struct User { age: u32 }
//! let f = User::age().eq("eighteen"); // a &str is not a u32
//! ```

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::rules::Viewing;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::model::Column;
use crate::model::Table;
use crate::model::{CREATED_AT_COLUMN, Doc, ID_COLUMN};
use crate::storage::TxRef;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
        }
    }
}

/// A string test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrOp {
    StartsWith,
    EndsWith,
    Contains,
    Like,
}

impl StrOp {
    fn name(self) -> &'static str {
        match self {
            StrOp::StartsWith => "starts_with",
            StrOp::EndsWith => "ends_with",
            StrOp::Contains => "contains",
            StrOp::Like => "like",
        }
    }
}

/// A value as an index key, plus the value itself for printing (formatted only when shown).
#[derive(Clone)]
pub(crate) struct KeyValue {
    pub(crate) key: Vec<u8>,
    value: Arc<dyn fmt::Debug + Send + Sync>,
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl PartialEq for KeyValue {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for KeyValue {}

impl KeyValue {
    pub(crate) fn of<C: Column>(value: C) -> Result<Self, String> {
        let mut key = Vec::new();
        value.encode_key(&mut key).map_err(|e| e.detail)?;
        Ok(KeyValue {
            key,
            value: Arc::new(Shown(value)),
        })
    }
}

/// A value printed with [`Column::show`].
struct Shown<C>(C);

impl<C: Column> fmt::Debug for Shown<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.show(f)
    }
}

/// Extracts the string from a string column's key encoding (`None` for a null).
pub(crate) type StrExtract = fn(&[u8]) -> Option<String>;

/// One test on one column.
#[derive(Clone)]
pub(crate) enum Pred {
    Cmp(CmpOp, KeyValue),
    Between(KeyValue, KeyValue),
    In(Vec<KeyValue>),
    NotIn(Vec<KeyValue>),
    IsNull,
    IsNotNull,
    Str {
        op: StrOp,
        pattern: String,
        /// For `starts_with`: the key bytes every matching value's key starts with.
        prefix_key: Vec<u8>,
        extract: StrExtract,
    },
}

impl Pred {
    /// `gt`, `gte`, `lt`, `lte`, `between`: the operators that never match `None`.
    pub(crate) fn is_range(&self) -> bool {
        matches!(
            self,
            Pred::Cmp(CmpOp::Gt | CmpOp::Gte | CmpOp::Lt | CmpOp::Lte, _) | Pred::Between(..)
        )
    }
}

/// The expression tree, untyped: columns are positions in the table schema.
#[derive(Clone)]
pub(crate) enum Expr {
    Pred {
        column: usize,
        name: &'static str,
        /// The column is an `Option`: ranges never match its `None`.
        nullable: bool,
        pred: Pred,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A condition on a row's related rows (`User::posts().exists()`, …).
    Related(Arc<RelFilter>),
    /// A filter whose value could not be encoded; running the query reports it.
    Invalid(Arc<str>),
}

/// How a relation filter quantifies over the related rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quant {
    /// At least one related row.
    Exists,
    /// No related row.
    None,
    /// At least one related row matches the condition.
    Any,
    /// Every related row matches the condition (true when there is none).
    All,
    /// The one related row exists and matches the condition.
    Is,
}

/// A relation filter with its typed test erased: built by `related.rs` from a
/// [`Relation`](crate::Relation), evaluated here like any other part of an expression.
pub(crate) struct RelFilter {
    /// The relation's name (`posts`).
    pub(crate) relation: &'static str,
    pub(crate) quant: Quant,
    /// The relation's own `.filter(...)`, which decides which related rows count.
    pub(crate) scope: Option<Expr>,
    /// The condition of `any`, `all` and `is`.
    pub(crate) cond: Option<Expr>,
    pub(crate) include_deleted: bool,
    /// Relation filters nested in `scope` and `cond`, plus this one.
    pub(crate) depth: usize,
    pub(crate) test: Box<dyn RelTest>,
}

/// The typed half of a relation filter.
pub(crate) trait RelTest: Send + Sync {
    /// The key a row's answer depends on (its id, or the foreign key a `belongs_to` follows);
    /// `None` when no related row can exist (a null foreign key). `doc` is a `Doc` of the
    /// relation's own table.
    fn key(&self, doc: &dyn Any) -> Result<Option<u64>>;
    /// Whether row `doc` has a related row in scope (and matching the condition of `any`
    /// and `is`, or failing the condition of `all`).
    fn found(&self, env: &Env<'_>, doc: &dyn Any) -> Result<bool>;
    /// How it is looked up, for `explain()`.
    fn how(&self, db: &Catalog) -> String;
}

/// What evaluating a filter needs besides the row: the transaction (for relation filters),
/// scratch space, and the relation filters' answers so far, so each distinct key is looked up
/// once per query.
pub(crate) struct Env<'a> {
    pub(crate) tx: TxRef<'a>,
    pub(crate) db: &'a Catalog,
    pub(crate) view: &'a Viewing,
    pub(crate) scratch: Vec<u8>,
    memo: HashMap<(usize, u64), bool>,
}

impl<'a> Env<'a> {
    pub(crate) fn new(tx: TxRef<'a>, db: &'a Catalog, view: &'a Viewing) -> Self {
        Env {
            tx,
            db,
            view,
            scratch: Vec::new(),
            memo: HashMap::new(),
        }
    }
}

/// A filter on rows of table `T`: built from the column descriptors `T::field()` and combined
/// with [`and`](Filter::and), [`or`](Filter::or) and [`not`](Filter::not).
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// struct Item { #[index] price: u32, name: String }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder().table::<Item>().in_memory()?;
/// db.write(|tx| {
///     for (price, name) in [(5, "pen"), (12, "book"), (40, "lamp")] {
///         tx.insert(Item { price, name: name.into() })?;
///     }
///     Ok(())
/// })?;
/// let cheap_or_lamp = Item::price().lt(20u32).and(Item::name().ne("pen")).or(Item::name().eq("lamp"));
/// let tx = db.read()?;
/// let names: Vec<String> = tx.query::<Item>().filter(cheap_or_lamp).allow_full_scan().all()?
///     .into_iter().map(|d| d.into_inner().name).collect();
/// assert_eq!(names, ["book", "lamp"]);
/// # Ok(()) }
/// ```
pub struct Filter<T> {
    pub(crate) expr: Expr,
    _table: PhantomData<fn() -> T>,
}

impl<T> Clone for Filter<T> {
    fn clone(&self) -> Self {
        Filter {
            expr: self.expr.clone(),
            _table: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Filter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Filter({self})")
    }
}

impl<T> fmt::Display for Filter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}

impl<T> Filter<T> {
    pub(crate) fn from_expr(expr: Expr) -> Self {
        Filter {
            expr,
            _table: PhantomData,
        }
    }

    /// Both filters hold.
    pub fn and(self, other: Filter<T>) -> Filter<T> {
        Filter::from_expr(Expr::conjoin(Some(self.expr), other.expr))
    }

    /// Adds `self` to the filter a builder already holds (`None`: none yet): the one way
    /// queries, relations and bulk writes combine repeated `.filter(...)` calls.
    pub(crate) fn and_into(self, held: &mut Option<Expr>) {
        *held = Some(Expr::conjoin(held.take(), self.expr));
    }

    /// Either filter holds.
    pub fn or(self, other: Filter<T>) -> Filter<T> {
        let mut parts = Vec::new();
        for e in [self.expr, other.expr] {
            match e {
                Expr::Or(inner) => parts.extend(inner),
                e => parts.push(e),
            }
        }
        Filter::from_expr(Expr::Or(parts))
    }

    /// The filter does not hold.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter<T> {
        Filter::from_expr(Expr::Not(Box::new(self.expr)))
    }
}

impl<T> std::ops::Not for Filter<T> {
    type Output = Filter<T>;
    fn not(self) -> Filter<T> {
        Filter::not(self)
    }
}

fn show_list(values: &[KeyValue]) -> String {
    let parts: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", parts.join(", "))
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Pred { name, pred, .. } => match pred {
                Pred::Cmp(op, v) => write!(f, "{name} {} {v:?}", op.symbol()),
                Pred::Between(lo, hi) => write!(f, "{name} BETWEEN {lo:?} AND {hi:?}"),
                Pred::In(vs) => write!(f, "{name} IN {}", show_list(vs)),
                Pred::NotIn(vs) => write!(f, "{name} NOT IN {}", show_list(vs)),
                Pred::IsNull => write!(f, "{name} IS NULL"),
                Pred::IsNotNull => write!(f, "{name} IS NOT NULL"),
                Pred::Str { op, pattern, .. } => write!(f, "{name} {} {pattern:?}", op.name()),
            },
            Expr::And(parts) | Expr::Or(parts) => {
                let sep = if matches!(self, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                f.write_str("(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    p.fmt(f)?;
                }
                f.write_str(")")
            }
            Expr::Not(inner) => write!(f, "NOT {inner}"),
            Expr::Related(r) => r.fmt(f),
            Expr::Invalid(why) => write!(f, "<invalid: {why}>"),
        }
    }
}

/// As it is written: `posts.exists()`, `posts.filter(draft = false).any(likes > 3)`.
impl fmt::Display for RelFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.relation)?;
        if self.include_deleted {
            f.write_str(".include_deleted()")?;
        }
        if let Some(scope) = &self.scope {
            write!(f, ".filter({scope})")?;
        }
        let verb = match self.quant {
            Quant::Exists => "exists",
            Quant::None => "none",
            Quant::Any => "any",
            Quant::All => "all",
            Quant::Is => "is",
        };
        match &self.cond {
            Some(c) => write!(f, ".{verb}({c})"),
            None => write!(f, ".{verb}()"),
        }
    }
}

impl Expr {
    /// `prev AND next`, flattened (`None`: just `next`).
    pub(crate) fn conjoin(prev: Option<Expr>, next: Expr) -> Expr {
        let Some(prev) = prev else { return next };
        let mut parts = Vec::new();
        for e in [prev, next] {
            match e {
                Expr::And(inner) => parts.extend(inner),
                e => parts.push(e),
            }
        }
        Expr::And(parts)
    }
}

// ---- evaluation on a row ------------------------------------------------------------------

/// Appends the key form of column `column` of `doc`, the system columns (`id`, `created_at`)
/// included: what filters compare and orders sort by.
pub(crate) fn column_key<T: Table>(
    doc: &Doc<T>,
    column: usize,
    out: &mut Vec<u8>,
) -> Result<(), crate::codec::CodecError> {
    match column {
        ID_COLUMN => doc.id.encode_key(out),
        CREATED_AT_COLUMN => doc.created_at.encode_key(out),
        c => doc.value().encode_column_key(c, out),
    }
}

impl Expr {
    /// Whether `doc` satisfies the expression. `Err` for an invalid filter, or when a
    /// relation filter cannot read what it needs.
    pub(crate) fn eval<T: Table>(&self, doc: &Doc<T>, env: &mut Env<'_>) -> Result<bool> {
        let invalid = |reason: String| Error::InvalidQuery {
            table: T::NAME,
            reason,
        };
        let row = doc.value();
        Ok(match self {
            Expr::Pred {
                column,
                pred,
                nullable,
                ..
            } => {
                if matches!(pred, Pred::IsNull) {
                    return Ok(row.column_is_null(*column));
                }
                if matches!(pred, Pred::IsNotNull) {
                    return Ok(!row.column_is_null(*column));
                }
                // A range never matches `None` (though `None` orders first).
                if *nullable && pred.is_range() && row.column_is_null(*column) {
                    return Ok(false);
                }
                env.scratch.clear();
                column_key(doc, *column, &mut env.scratch).map_err(|e| invalid(e.detail))?;
                let k = env.scratch.as_slice();
                match pred {
                    Pred::Cmp(op, v) => {
                        let o = k.cmp(v.key.as_slice());
                        match op {
                            CmpOp::Eq => o.is_eq(),
                            CmpOp::Ne => o.is_ne(),
                            CmpOp::Gt => o.is_gt(),
                            CmpOp::Gte => o.is_ge(),
                            CmpOp::Lt => o.is_lt(),
                            CmpOp::Lte => o.is_le(),
                        }
                    }
                    Pred::Between(lo, hi) => k >= lo.key.as_slice() && k <= hi.key.as_slice(),
                    Pred::In(vs) => vs.iter().any(|v| v.key == k),
                    Pred::NotIn(vs) => vs.iter().all(|v| v.key != k),
                    Pred::Str {
                        op,
                        pattern,
                        extract,
                        ..
                    } => match extract(k) {
                        None => false,
                        Some(s) => match op {
                            StrOp::StartsWith => s.starts_with(pattern.as_str()),
                            StrOp::EndsWith => s.ends_with(pattern.as_str()),
                            StrOp::Contains => s.contains(pattern.as_str()),
                            StrOp::Like => like(&s, pattern),
                        },
                    },
                    Pred::IsNull | Pred::IsNotNull => false,
                }
            }
            Expr::And(parts) => {
                for p in parts {
                    if !p.eval(doc, env)? {
                        return Ok(false);
                    }
                }
                true
            }
            Expr::Or(parts) => {
                for p in parts {
                    if p.eval(doc, env)? {
                        return Ok(true);
                    }
                }
                false
            }
            Expr::Not(inner) => !inner.eval(doc, env)?,
            Expr::Related(r) => r.eval(doc, env)?,
            Expr::Invalid(why) => return Err(invalid(why.to_string())),
        })
    }

    /// Feeds the expression's structure and values to `h` (for binding cursors to their
    /// query without formatting it).
    pub(crate) fn hash_into(&self, h: &mut impl std::hash::Hasher) {
        let bytes = |h: &mut dyn std::hash::Hasher, b: &[u8]| {
            h.write_usize(b.len());
            h.write(b);
        };
        match self {
            Expr::Pred { column, pred, .. } => {
                h.write_u8(1);
                h.write_usize(*column);
                match pred {
                    Pred::Cmp(op, v) => {
                        h.write_u8(10 + *op as u8);
                        bytes(h, &v.key);
                    }
                    Pred::Between(lo, hi) => {
                        h.write_u8(20);
                        bytes(h, &lo.key);
                        bytes(h, &hi.key);
                    }
                    Pred::In(vs) | Pred::NotIn(vs) => {
                        h.write_u8(if matches!(pred, Pred::In(_)) { 21 } else { 22 });
                        h.write_usize(vs.len());
                        for v in vs {
                            bytes(h, &v.key);
                        }
                    }
                    Pred::IsNull => h.write_u8(23),
                    Pred::IsNotNull => h.write_u8(24),
                    Pred::Str { op, pattern, .. } => {
                        h.write_u8(30 + *op as u8);
                        bytes(h, pattern.as_bytes());
                    }
                }
            }
            Expr::And(parts) | Expr::Or(parts) => {
                h.write_u8(if matches!(self, Expr::And(_)) { 2 } else { 3 });
                h.write_usize(parts.len());
                for p in parts {
                    p.hash_into(h);
                }
            }
            Expr::Not(inner) => {
                h.write_u8(4);
                inner.hash_into(h);
            }
            Expr::Related(r) => {
                h.write_u8(6);
                bytes(h, r.relation.as_bytes());
                h.write_u8(r.quant as u8);
                h.write_u8(u8::from(r.include_deleted));
                for part in [&r.scope, &r.cond] {
                    match part {
                        None => h.write_u8(0),
                        Some(e) => {
                            h.write_u8(1);
                            e.hash_into(h);
                        }
                    }
                }
            }
            Expr::Invalid(why) => {
                h.write_u8(5);
                bytes(h, why.as_bytes());
            }
        }
    }

    /// The first invalid part, if any.
    pub(crate) fn invalid(&self) -> Option<&str> {
        match self {
            Expr::Invalid(why) => Some(why),
            Expr::And(parts) | Expr::Or(parts) => parts.iter().find_map(Expr::invalid),
            Expr::Not(inner) => inner.invalid(),
            Expr::Related(r) => r.scope.iter().chain(&r.cond).find_map(Expr::invalid),
            Expr::Pred { .. } => None,
        }
    }

    /// The relation filters in the expression, outermost first (not those nested in them).
    pub(crate) fn relation_filters(&self) -> Vec<&RelFilter> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                Expr::Related(r) => out.push(&**r),
                Expr::And(parts) | Expr::Or(parts) => stack.extend(parts.iter().rev()),
                Expr::Not(inner) => stack.push(inner),
                Expr::Pred { .. } | Expr::Invalid(_) => {}
            }
        }
        out
    }

    /// How deeply relation filters nest in the expression (0: none).
    pub(crate) fn relation_depth(&self) -> usize {
        match self {
            Expr::Related(r) => r.depth,
            Expr::And(parts) | Expr::Or(parts) => {
                parts.iter().map(Expr::relation_depth).max().unwrap_or(0)
            }
            Expr::Not(inner) => inner.relation_depth(),
            Expr::Pred { .. } | Expr::Invalid(_) => 0,
        }
    }
}

impl RelFilter {
    /// Whether `doc` passes: looked up once per distinct key per query (see [`Env`]).
    fn eval<T: Table>(&self, doc: &Doc<T>, env: &mut Env<'_>) -> Result<bool> {
        let Some(key) = self.test.key(doc)? else {
            // A null foreign key: no related row.
            return Ok(matches!(self.quant, Quant::None | Quant::All));
        };
        let slot = (std::ptr::from_ref(self) as usize, key);
        let found = match env.memo.get(&slot) {
            Some(&found) => found,
            None => {
                let found = self.test.found(env, doc)?;
                env.memo.insert(slot, found);
                found
            }
        };
        Ok(match self.quant {
            Quant::Exists | Quant::Any | Quant::Is => found,
            Quant::None | Quant::All => !found,
        })
    }
}

/// SQL `LIKE`: `%` matches any run of characters, `_` exactly one; case-sensitive; no escape.
pub(crate) fn like(s: &str, pattern: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    // Greedy matching with backtracking to the last `%`: linear in practice, no recursion.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if j < p.len() && (p[j] == '_' || (p[j] != '%' && p[j] == s[i])) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == '%' {
            star = Some((j, i));
            j += 1;
        } else if let Some((sj, si)) = star {
            j = sj + 1;
            i = si + 1;
            star = Some((sj, si + 1));
        } else {
            return false;
        }
    }
    while j < p.len() && p[j] == '%' {
        j += 1;
    }
    j == p.len()
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_wildcards() {
        assert!(like("hello", "h%o"));
        assert!(like("hello", "%"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("hello", "_ello"));
        assert!(!like("hello", "_llo"));
        assert!(like("a%b", "a%b"));
        assert!(like("abcabc", "%bc"));
        assert!(!like("Hello", "h%"));
        assert!(like("mississippi", "m%iss%pi"));
        assert!(!like("mississippi", "m%iss%pa"));
        assert!(like("héllo", "h_llo"));
    }
}
