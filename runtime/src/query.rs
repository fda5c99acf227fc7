//! Queries: filters, the planner, ordering, limits, counting, streaming and cursor pagination.
//!
//! # The planner rule
//!
//! A query's filter is split into its top-level `AND` parts. For every index of the table:
//!
//! 1. walk the index's columns from the left while a part pins the column by equality: `eq`,
//!    `in_` (one probe per value), `is_null`, or an `or` of `eq`/`in_` on that one column;
//! 2. on the next column, take at most one range: `gt`, `gte`, `lt`, `lte`, `between`,
//!    `starts_with`, or a `like` whose pattern starts with literal text (several range parts on
//!    that column intersect).
//!
//! The index with the most pinned columns wins; then one with a range; then one that serves the
//! `order_by`; then the one with fewer probes; then the one declared first. Parts the index
//! does not consume are checked on each row read (post-filters). `using(index)` forces an index.
//!
//! `order_by` is served by the chosen index when its columns, after the pinned ones (columns
//! pinned to a single value may be skipped), start with the ordered columns, all ascending or
//! all descending; otherwise the rows are sorted in memory. Several probes are merged in order.
//! Rows with equal order keys come in id order. A query without `order_by` returns rows in the
//! order of the index it reads, or by id when it reads the table itself.
//!
//! In strict mode (the default) a query whose filter no index narrows, or whose `order_by`
//! no index serves, would read the whole table: it fails with [`Error::IndexRequired`], which
//! names an index that would serve it, unless the query says `allow_full_scan()` or the
//! database was opened with `strict(false)`. A query with neither filter nor order reads rows
//! by id, which is never an error.
//!
//! Comparisons use the column's key order: for `Option` columns `None` sorts first, so
//! `lt(Some(x))` matches `None` too; floats are in total order (`-NaN < -inf < … < inf < NaN`).

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Bound;

use crate::db::{DbInner, TableInfo};
use crate::error::{Error, Result};
use crate::filter::{Expr, Filter, Pred, StrOp};
use crate::relation::{Load, LoadCx};
use crate::schema::{Col, Index, Table};
use crate::storage::{self, Source};
use crate::tx::{Doc, TxRef, Visibility, decode_doc};
use std::sync::Arc;

/// One ordering key: a column and a direction. Built with [`Col::asc`] / [`Col::desc`].
pub struct Order<T> {
    column: usize,
    name: &'static str,
    desc: bool,
    _table: PhantomData<fn() -> T>,
}

impl<T> Clone for Order<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Order<T> {}
impl<T> fmt::Debug for Order<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.name,
            if self.desc { "desc" } else { "asc" }
        )
    }
}

impl<T> Order<T> {
    pub(crate) fn column(&self) -> usize {
        self.column
    }
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
    pub(crate) fn is_desc(&self) -> bool {
        self.desc
    }
}

impl<T, C> Col<T, C> {
    /// Ascending order on this column.
    pub fn asc(&self) -> Order<T> {
        Order {
            column: self.position(),
            name: self.name(),
            desc: false,
            _table: PhantomData,
        }
    }
    /// Descending order on this column.
    pub fn desc(&self) -> Order<T> {
        Order {
            column: self.position(),
            name: self.name(),
            desc: true,
            _table: PhantomData,
        }
    }
}

/// A query on table `T`, built by [`ReadTx::query`](crate::ReadTx::query) or
/// [`WriteTx::query`](crate::WriteTx::query) and run by one of its terminals:
/// [`all`](Query::all), [`first`](Query::first), [`first_or_err`](Query::first_or_err),
/// [`unique`](Query::unique), [`count`](Query::count), [`iter`](Query::iter),
/// [`paginate`](Query::paginate); [`explain`](Query::explain) shows the plan.
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// #[table(index(by_team_age = [team, age]))]
/// struct Player { team: String, age: u32, name: String }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder().table::<Player>().in_memory()?;
/// db.write(|tx| {
///     for (team, age, name) in [("red", 30, "Ann"), ("red", 25, "Bo"), ("blue", 41, "Cy")] {
///         tx.insert(Player { team: team.into(), age, name: name.into() })?;
///     }
///     Ok(())
/// })?;
/// let tx = db.read()?;
/// let q = tx.query::<Player>()
///     .filter(Player::team().eq("red").and(Player::age().gte(26u32)))
///     .order_by(Player::age().desc());
/// assert_eq!(q.explain().lines().nth(1), Some("access: index by_team_age (1 probe: team = \"red\"), range age >= 26"));
/// let names: Vec<String> = q.all()?.into_iter().map(|p| p.name.clone()).collect();
/// assert_eq!(names, ["Ann"]);
/// # Ok(()) }
/// ```
pub struct Query<'tx, T> {
    tx: TxRef<'tx>,
    db: &'tx DbInner,
    filter: Option<Expr>,
    order: Vec<Order<T>>,
    limit: Option<usize>,
    offset: usize,
    using: Option<(usize, &'static str)>,
    allow_full_scan: bool,
    withs: Vec<Arc<dyn Load<T>>>,
    visibility: Visibility,
}

impl<T> fmt::Debug for Query<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query")
            .field("filter", &self.filter.as_ref().map(|e| e.to_string()))
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .finish()
    }
}

impl<'tx, T: Table> Query<'tx, T> {
    pub(crate) fn new(tx: TxRef<'tx>, db: &'tx DbInner) -> Self {
        Query {
            tx,
            db,
            filter: None,
            order: Vec::new(),
            limit: None,
            offset: 0,
            using: None,
            allow_full_scan: false,
            withs: Vec::new(),
            visibility: Visibility::Live,
        }
    }

    /// Also returns soft-deleted rows (every read skips them otherwise).
    pub fn include_deleted(mut self) -> Self {
        self.visibility = Visibility::All;
        self
    }

    /// Returns only soft-deleted rows.
    pub fn only_deleted(mut self) -> Self {
        self.visibility = Visibility::Deleted;
        self
    }

    /// Also loads relation `rel` on every row returned, batched: one index probe per distinct
    /// key per level, whatever the number of rows (see the [relation docs](crate::Relation)).
    /// [`iter`](Query::iter) loads it row by row as it goes.
    pub fn with(mut self, rel: impl Load<T> + 'static) -> Self {
        self.withs.push(Arc::new(rel));
        self
    }

    fn load_withs(&self, rows: &mut [Doc<T>]) -> Result<()> {
        if self.withs.is_empty() || rows.is_empty() {
            return Ok(());
        }
        let mut cx = LoadCx {
            tx: self.tx,
            db: self.db,
        };
        for w in &self.withs {
            w.load_into(&mut cx, rows, 1)?;
        }
        Ok(())
    }

    /// Keeps the rows the filter accepts. Calling it again adds another condition (`AND`).
    pub fn filter(mut self, filter: Filter<T>) -> Self {
        self.filter = Some(match self.filter.take() {
            None => filter.expr,
            Some(prev) => Filter::<T>::from_expr(prev).and(filter).expr,
        });
        self
    }

    /// Orders by a column; call again for further keys (`order_by(a.asc()).order_by(b.desc())`).
    pub fn order_by(mut self, order: Order<T>) -> Self {
        self.order.push(order);
        self
    }

    /// Returns at most `n` rows (counting rows that pass every filter). `limit(0)` returns none.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` matching rows. Costs O(n): prefer [`paginate`](Query::paginate).
    pub fn offset(mut self, n: usize) -> Self {
        self.offset = n;
        self
    }

    /// Reads through this index whatever the planner would choose.
    pub fn using<K>(mut self, index: impl Into<Index<T, K>>) -> Self {
        let index = index.into();
        self.using = Some((index.position(), index.name()));
        self
    }

    /// Allows this query to read the whole table when no index serves it.
    pub fn allow_full_scan(mut self) -> Self {
        self.allow_full_scan = true;
        self
    }

    fn info(&self) -> Result<&'tx TableInfo> {
        self.db.info::<T>()
    }

    fn filter_text(&self) -> String {
        self.filter
            .as_ref()
            .map_or_else(|| "all rows".to_string(), |f| f.to_string())
    }

    fn plan(&self) -> Result<Plan> {
        let info = self.info()?;
        if let Some(why) = self.filter.as_ref().and_then(Expr::invalid) {
            return Err(Error::InvalidQuery {
                table: T::NAME,
                reason: why.to_string(),
            });
        }
        let order: Vec<(usize, bool)> = self.order.iter().map(|o| (o.column, o.desc)).collect();
        let mut plan = plan(info, self.filter.as_ref(), &order, self.using.map(|u| u.0));
        plan.vis = self.visibility;
        let strict = self.db.strict && !self.allow_full_scan && self.using.is_none();
        if strict && plan.full_scan {
            return Err(Error::IndexRequired {
                table: T::NAME,
                filter: plan.unserved_text(&self.order),
                suggestion: plan.suggestion(info, &order),
            });
        }
        Ok(plan)
    }

    /// The plan as text: access path, probes and range, order, post-filters, limit.
    pub fn explain(&self) -> String {
        let info = match self.info() {
            Ok(i) => i,
            Err(e) => return format!("error: {e}"),
        };
        let order: Vec<(usize, bool)> = self.order.iter().map(|o| (o.column, o.desc)).collect();
        let plan = plan(info, self.filter.as_ref(), &order, self.using.map(|u| u.0));
        let mut out = format!("query {}\n", T::NAME);
        out.push_str(&plan.describe(info));
        let strict = self.db.strict && !self.allow_full_scan && self.using.is_none();
        if plan.full_scan {
            out.push_str(if strict {
                "full scan: refused in strict mode\n"
            } else {
                "full scan: allowed\n"
            });
        }
        match self.visibility {
            Visibility::Live => {}
            Visibility::All => out.push_str("rows: including soft-deleted\n"),
            Visibility::Deleted => out.push_str("rows: soft-deleted only\n"),
        }
        if self.offset > 0 {
            out.push_str(&format!("offset: {}\n", self.offset));
        }
        if let Some(n) = self.limit {
            out.push_str(&format!("limit: {n}\n"));
        }
        out
    }

    /// An executor for this query; `need` is how many rows the caller will take at most, so
    /// the first scan reads no more than that (post-filters may make it read on).
    fn exec(&self, start: Option<Position>, need: Option<usize>) -> Result<Exec<'tx, T>> {
        let plan = self.plan()?;
        let mut exec = Exec::new(self.tx, self.info()?, plan, start)?;
        if let Some(n) = need {
            exec.batch = n.clamp(1, BATCH);
        }
        Ok(exec)
    }

    /// Every matching row (after `offset`, at most `limit`).
    pub fn all(&self) -> Result<Vec<Doc<T>>> {
        let mut out = Vec::new();
        if self.limit == Some(0) {
            return Ok(out);
        }
        let mut exec = self.exec(None, self.limit)?;
        exec.skip(self.offset)?;
        while let Some(doc) = exec.next()? {
            out.push(doc);
            if self.limit.is_some_and(|n| out.len() >= n) {
                break;
            }
        }
        self.load_withs(&mut out)?;
        Ok(out)
    }

    /// The first matching row, if any.
    pub fn first(&self) -> Result<Option<Doc<T>>> {
        if self.limit == Some(0) {
            return Ok(None);
        }
        let mut exec = self.exec(None, Some(1))?;
        exec.skip(self.offset)?;
        match exec.next()? {
            Some(doc) => {
                let mut one = [doc];
                self.load_withs(&mut one)?;
                let [doc] = one;
                Ok(Some(doc))
            }
            None => Ok(None),
        }
    }

    /// The first matching row, or [`Error::NoMatch`].
    pub fn first_or_err(&self) -> Result<Doc<T>> {
        self.first()?.ok_or_else(|| Error::NoMatch {
            table: T::NAME,
            filter: self.filter_text(),
        })
    }

    /// The only matching row (`None` when there is none), or [`Error::NotUnique`] when there
    /// are several.
    pub fn unique(&self) -> Result<Option<Doc<T>>> {
        let mut found = self.clone_query().limit(2).all()?.into_iter();
        match (found.next(), found.next()) {
            (Some(a), Some(b)) => Err(Error::NotUnique {
                table: T::NAME,
                filter: self.filter_text(),
                first: a.id.get(),
                second: b.id.get(),
            }),
            (a, _) => Ok(a),
        }
    }

    fn clone_query(&self) -> Query<'tx, T> {
        Query {
            tx: self.tx,
            db: self.db,
            filter: self.filter.clone(),
            order: self.order.clone(),
            limit: self.limit,
            offset: self.offset,
            using: self.using,
            allow_full_scan: self.allow_full_scan,
            withs: self.withs.clone(),
            visibility: self.visibility,
        }
    }

    /// How many rows match (after `offset`, at most `limit`). Reads only index keys, without
    /// decoding rows, when no post-filter is needed; the row count of a table without a
    /// filter costs nothing.
    pub fn count(&self) -> Result<usize> {
        let plan = self.plan()?;
        let info = self.info()?;
        let cap = |n: usize| {
            let n = n.saturating_sub(self.offset);
            self.limit.map_or(n, |l| n.min(l))
        };
        // Index keys and the table's row count include soft-deleted rows.
        let keys_suffice = !info.may_hold_deleted || self.visibility == Visibility::All;
        if plan.residual.is_none() && keys_suffice {
            match &plan.access {
                Access::Rows => {
                    let n = self.tx.row_count(T::NAME)?;
                    return Ok(cap(usize::try_from(n).unwrap_or(usize::MAX)));
                }
                Access::Index {
                    index,
                    probes,
                    range,
                } => {
                    let table = &info.index_tables[*index];
                    let mut n = 0usize;
                    let want = self.limit.map(|l| l.saturating_add(self.offset));
                    for probe in probes {
                        let (lo, hi) = probe_bounds(probe, range);
                        let Some((lo, hi)) = lo.zip(hi) else { continue };
                        self.tx
                            .scan_index(table, as_ref(&lo), as_ref(&hi), false, &mut |_| {
                                n += 1;
                                Ok(want.is_none_or(|w| n < w))
                            })?;
                        if want.is_some_and(|w| n >= w) {
                            break;
                        }
                    }
                    return Ok(cap(n));
                }
            }
        }
        let mut exec = Exec::<T>::new(self.tx, info, plan, None)?;
        let mut n = 0usize;
        let want = self.limit.map(|l| l.saturating_add(self.offset));
        while want.is_none_or(|w| n < w) && exec.next()?.is_some() {
            n += 1;
        }
        Ok(cap(n))
    }

    /// The matching rows as an iterator that reads them in batches as it goes, for results
    /// too large to hold at once. Honours `offset` and `limit`.
    pub fn iter(&self) -> Result<QueryIter<'tx, T>> {
        Ok(QueryIter {
            tx: self.tx,
            db: self.db,
            withs: self.withs.clone(),
            exec: if self.limit == Some(0) {
                None
            } else {
                Some(self.exec(None, self.limit.map(|n| n.saturating_add(self.offset)))?)
            },
            skip: self.offset,
            left: self.limit,
        })
    }

    /// One page of at most `n` rows, starting after `cursor` (from the start when `None`).
    ///
    /// The page's [`next_cursor`](Page::next_cursor) continues where it stopped; it is bound to
    /// this query (same table, filter, order and index) and is refused by any other. When the
    /// order is served by an index (or there is no order), a page costs O(log n + page size)
    /// however deep it is; rows inserted or deleted between pages never make a row that
    /// existed throughout be skipped or repeated. Without `order_by`, pages go in the order of
    /// the index read (by id for a table read).
    ///
    /// `offset` and `limit` do not combine with cursors: they are an [`Error::InvalidQuery`],
    /// as is `n == 0`.
    pub fn paginate(&self, cursor: Option<&Cursor>, n: usize) -> Result<Page<T>> {
        if self.offset > 0 || self.limit.is_some() {
            return Err(Error::InvalidQuery {
                table: T::NAME,
                reason: "offset and limit do not combine with paginate(); the page size is \
                         paginate's second argument and the cursor says where to start"
                    .to_string(),
            });
        }
        if n == 0 {
            return Err(Error::InvalidQuery {
                table: T::NAME,
                reason: "a page must hold at least one row; call paginate(cursor, n) with n >= 1"
                    .to_string(),
            });
        }
        let fingerprint = self.fingerprint();
        let secret = self.db.secret;
        let start = match cursor {
            None => None,
            Some(c) => Some(c.open(T::NAME, fingerprint, secret)?),
        };
        // One row past the page tells whether it is the last.
        let mut exec = self.exec(start, Some(n.saturating_add(1)))?;
        let mut items = Vec::with_capacity(n.min(1024));
        let mut last = None;
        while items.len() < n {
            match exec.next()? {
                Some(doc) => {
                    items.push(doc);
                    last = exec.position();
                }
                None => break,
            }
        }
        let is_done = items.len() < n || exec.next()?.is_none();
        self.load_withs(&mut items)?;
        let next_cursor = match (is_done, last) {
            (false, Some(pos)) => Some(Cursor::seal(fingerprint, &pos, secret)),
            _ => None,
        };
        Ok(Page {
            items,
            next_cursor,
            is_done,
        })
    }

    fn fingerprint(&self) -> u64 {
        let mut h = Fnv::new(0);
        h.write(T::NAME.as_bytes());
        match &self.filter {
            None => h.write_u8(0),
            Some(f) => f.hash_into(&mut h),
        }
        for o in &self.order {
            h.write(&(o.column as u64).to_le_bytes());
            h.write(&[u8::from(o.desc)]);
        }
        if let Some((_, name)) = self.using {
            h.write(name.as_bytes());
        }
        h.write(&[self.visibility as u8]);
        h.finish()
    }
}

/// A page of rows from [`Query::paginate`].
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<Doc<T>>,
    /// Where the next page starts; `None` when this is the last page.
    pub next_cursor: Option<Cursor>,
    /// Whether this is the last page.
    pub is_done: bool,
}

/// An opaque position in a query's results, from [`Page::next_cursor`]. Its string form
/// ([`Display`](fmt::Display) / [`FromStr`](std::str::FromStr)) travels through APIs; it is
/// tamper-evident (a per-database key signs it) and bound to the query it came from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    text: String,
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({})", self.text)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Cursor {
    type Err = std::convert::Infallible;
    /// Accepts any string; a malformed one is refused when it is used.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Cursor {
            text: s.to_string(),
        })
    }
}

impl Cursor {
    /// The cursor's string form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn seal(fingerprint: u64, pos: &Position, secret: u64) -> Cursor {
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(&fingerprint.to_le_bytes());
        pos.encode(&mut bytes);
        let mac = mac(secret, &bytes);
        bytes.extend_from_slice(&mac.to_le_bytes());
        Cursor {
            text: hex_encode(&bytes),
        }
    }

    fn open(&self, table: &'static str, fingerprint: u64, secret: u64) -> Result<Position> {
        let invalid = |reason: &str| Error::InvalidCursor {
            table,
            reason: reason.to_string(),
        };
        let bytes = hex_decode(&self.text).ok_or_else(|| {
            invalid("it is not a cursor this library produced (bad characters or length)")
        })?;
        if bytes.len() < 1 + 8 + 8 {
            return Err(invalid("it is truncated"));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let mut tag = [0u8; 8];
        tag.copy_from_slice(tail);
        if u64::from_le_bytes(tag) != mac(secret, body) {
            return Err(invalid("it was altered or comes from another database"));
        }
        if body[0] != 1 {
            return Err(invalid("unknown cursor version"));
        }
        let mut fp = [0u8; 8];
        fp.copy_from_slice(&body[1..9]);
        if u64::from_le_bytes(fp) != fingerprint {
            return Err(invalid(
                "it belongs to another query (a different table, filter, order or index); \
                 start again without a cursor",
            ));
        }
        Position::decode(&body[9..]).ok_or_else(|| invalid("its position does not decode"))
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// FNV-1a, 64 bits: stable across releases (unlike std's hasher), used for query fingerprints
/// and, keyed with the database's secret, for cursor tags.
struct Fnv(u64);

impl Fnv {
    fn new(seed: u64) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.write(&seed.to_le_bytes());
        h
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn mac(secret: u64, bytes: &[u8]) -> u64 {
    let mut h = Fnv::new(secret);
    h.write(bytes);
    h.write(&secret.rotate_left(17).to_le_bytes());
    h.finish()
}

/// Where a scan stopped: which probe, and the key suffix (index plans), id (table plans) or
/// sort key (sorted plans) of the last row returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    probe: u32,
    key: Vec<u8>,
}

impl Position {
    fn encode(&self, out: &mut Vec<u8>) {
        crate::codec::put_varint(out, u64::from(self.probe));
        out.extend_from_slice(&self.key);
    }
    fn decode(mut bytes: &[u8]) -> Option<Position> {
        let probe = u32::try_from(crate::codec::get_varint(&mut bytes).ok()?).ok()?;
        Some(Position {
            probe,
            key: bytes.to_vec(),
        })
    }
}

// ---- planning ---------------------------------------------------------------------------------

/// A range on one column's key bytes: `(bytes, inclusive)` bounds; `None` is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ColRange {
    lo: Option<(Vec<u8>, bool)>,
    hi: Option<(Vec<u8>, bool)>,
    /// The filter parts that made the range, for explain.
    parts: Vec<usize>,
}

impl ColRange {
    fn tighten_lo(&mut self, key: &[u8], inclusive: bool) {
        let replace = match &self.lo {
            None => true,
            Some((k, inc)) => key > k.as_slice() || (key == k.as_slice() && *inc && !inclusive),
        };
        if replace {
            self.lo = Some((key.to_vec(), inclusive));
        }
    }
    fn tighten_hi(&mut self, key: &[u8], inclusive: bool) {
        let replace = match &self.hi {
            None => true,
            Some((k, inc)) => key < k.as_slice() || (key == k.as_slice() && *inc && !inclusive),
        };
        if replace {
            self.hi = Some((key.to_vec(), inclusive));
        }
    }

    fn apply(&mut self, bound: &Bounds<'_>) {
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
enum Access {
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
struct Plan {
    access: Access,
    /// The filter's top-level `AND` parts (for explain).
    parts: Vec<Expr>,
    /// The parts pinning the index's leading columns (indexes into `parts`).
    pinned: Vec<usize>,
    /// Filter parts checked on each row (`None`: every part is served by the access path).
    residual: Option<Expr>,
    /// Order served by the access path: scan direction.
    reverse: bool,
    /// Several probes whose results must be merged by key suffix to keep the order.
    merge: bool,
    /// Order not served: sort in memory by these (column, desc) keys.
    sort: Option<Vec<(usize, bool)>>,
    full_scan: bool,
    /// Which rows by soft-deletion state.
    vis: Visibility,
}

/// A bound a filter part puts on one column's key.
enum Bounds<'e> {
    Lo(&'e [u8], bool),
    Hi(&'e [u8], bool),
    Between(&'e [u8], &'e [u8]),
    /// Every key starting with these bytes.
    Prefix(&'e [u8]),
}

/// How a conjunct can help an index.
enum Use<'e> {
    /// Pins the column to these key values.
    Pin(Vec<&'e [u8]>),
    /// Bounds the column; `exact` when the bound alone decides the part (a `like` with
    /// wildcards after its literal prefix is only narrowed by it, and still checked per row).
    Range(Bounds<'e>, bool),
}

/// The key of `None`, for `is_null` pins.
const NULL_KEY: &[u8] = &[0];

fn classify(e: &Expr) -> Option<(usize, Use<'_>)> {
    use crate::filter::CmpOp;
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

const MAX_PROBES: usize = 4096;

struct Candidate {
    index: usize,
    pinned_cols: usize,
    probes: Vec<Vec<u8>>,
    pinned: Vec<usize>,
    range: Option<ColRange>,
    consumed: Vec<usize>,
    order_served: Option<bool>,
    single_valued: Vec<usize>,
}

fn conjuncts(filter: Option<&Expr>) -> Vec<Expr> {
    match filter {
        None => Vec::new(),
        Some(Expr::And(parts)) => parts.clone(),
        Some(e) => vec![e.clone()],
    }
}

fn plan(
    info: &TableInfo,
    filter: Option<&Expr>,
    order: &[(usize, bool)],
    using: Option<usize>,
) -> Plan {
    let parts = conjuncts(filter);
    let uses: Vec<Option<(usize, Use<'_>)>> = parts.iter().map(classify).collect();
    let mut best: Option<Candidate> = None;
    for (pos, index) in info.schema.indexes.iter().enumerate() {
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
            single_valued,
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
            let _ = &c.single_valued;
            drop(uses);
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
            drop(uses);
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
    fn describe(&self, info: &TableInfo) -> String {
        let mut out = String::new();
        match &self.access {
            Access::Rows => out.push_str("access: table scan in id order\n"),
            Access::Index {
                index,
                probes,
                range,
            } => {
                let name = info.schema.indexes[*index].name;
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
                            info.schema.columns[*c].name,
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

    fn unserved_text<T>(&self, order: &[Order<T>]) -> String {
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

    fn suggestion(&self, info: &TableInfo, order: &[(usize, bool)]) -> String {
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
        let names: Vec<&str> = cols.iter().map(|&c| info.schema.columns[c].name).collect();
        format!("index(by_{} = [{}])", names.join("_"), names.join(", "))
    }
}

// ---- execution ----------------------------------------------------------------------------------

fn succ(mut k: Vec<u8>) -> Option<Vec<u8>> {
    let up = storage::prefix_upper_bound(&k)?;
    k.clear();
    k.extend(up);
    Some(k)
}

/// Full-key bounds of one probe: `None` on either side means the probe is empty.
/// A probe's bounds; `None` on a side means the probe reads nothing.
type ProbeBounds = (Option<Bound<Vec<u8>>>, Option<Bound<Vec<u8>>>);

fn probe_bounds(prefix: &[u8], range: &ColRange) -> ProbeBounds {
    let join = |k: &[u8]| {
        let mut v = prefix.to_vec();
        v.extend_from_slice(k);
        v
    };
    let lo = match &range.lo {
        None => Some(Bound::Included(prefix.to_vec())),
        Some((k, true)) => Some(Bound::Included(join(k))),
        Some((k, false)) => succ(join(k)).map(Bound::Included),
    };
    let hi = match &range.hi {
        None => Some(succ(prefix.to_vec()).map_or(Bound::Unbounded, Bound::Excluded)),
        Some((k, true)) => Some(succ(join(k)).map_or(Bound::Unbounded, Bound::Excluded)),
        Some((k, false)) => Some(Bound::Excluded(join(k))),
    };
    (lo, hi)
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

const BATCH: usize = 128;

/// One probe's scan, read in batches; its bounds move past what has been read.
struct ProbeScan {
    prefix_len: usize,
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    buf: VecDeque<Vec<u8>>,
    exhausted: bool,
}

impl ProbeScan {
    fn fill(&mut self, tx: TxRef<'_>, table: &str, reverse: bool, batch: usize) -> Result<()> {
        if !self.buf.is_empty() || self.exhausted {
            return Ok(());
        }
        let mut got = 0;
        let buf = &mut self.buf;
        tx.scan_index(
            table,
            as_ref(&self.lo),
            as_ref(&self.hi),
            reverse,
            &mut |k| {
                buf.push_back(k.to_vec());
                got += 1;
                Ok(got < batch)
            },
        )?;
        if got < batch {
            self.exhausted = true;
        }
        if let Some(last) = self.buf.back() {
            if reverse {
                self.hi = Bound::Excluded(last.clone());
            } else {
                self.lo = Bound::Excluded(last.clone());
            }
        }
        Ok(())
    }
}

enum Source2<T> {
    Rows {
        next: Bound<u64>,
        buf: VecDeque<Doc<T>>,
        exhausted: bool,
    },
    Index {
        table: String,
        scans: Vec<ProbeScan>,
        current: usize,
    },
    Sorted(VecDeque<(Vec<u8>, Doc<T>)>),
}

/// The row [`Exec::next`] returned last, as much as a cursor needs.
enum Last {
    None,
    /// Read from the table: its id.
    Id(u64),
    /// Read from an index (or a sort): the key, whose part after `prefix_len` is the position.
    Key {
        probe: u32,
        key: Vec<u8>,
        prefix_len: usize,
    },
}

/// Runs a plan, yielding matching rows.
pub(crate) struct Exec<'tx, T> {
    last: Last,
    /// Entries read per storage scan (smaller than [`BATCH`] when the caller needs few rows).
    batch: usize,
    tx: TxRef<'tx>,
    info: &'tx TableInfo,
    plan: Plan,
    source: Source2<T>,
    scratch: Vec<u8>,
    _t: PhantomData<fn() -> T>,
}

impl<'tx, T: Table> Exec<'tx, T> {
    fn new(
        tx: TxRef<'tx>,
        info: &'tx TableInfo,
        plan: Plan,
        start: Option<Position>,
    ) -> Result<Self> {
        let source = match (&plan.access, &plan.sort) {
            (_, Some(_)) => Source2::Sorted(VecDeque::new()),
            (Access::Rows, None) => {
                let next = match &start {
                    None => Bound::Unbounded,
                    Some(p) => {
                        let id: [u8; 8] =
                            p.key
                                .as_slice()
                                .try_into()
                                .map_err(|_| Error::InvalidCursor {
                                    table: T::NAME,
                                    reason: "its position does not decode".to_string(),
                                })?;
                        Bound::Excluded(u64::from_be_bytes(id))
                    }
                };
                Source2::Rows {
                    next,
                    buf: VecDeque::new(),
                    exhausted: false,
                }
            }
            (
                Access::Index {
                    index,
                    probes,
                    range,
                },
                None,
            ) => {
                let mut scans = Vec::with_capacity(probes.len());
                let mut current = 0;
                for (i, p) in probes.iter().enumerate() {
                    let (lo, hi) = probe_bounds(p, range);
                    let (Some(mut lo), Some(mut hi)) = (lo, hi) else {
                        scans.push(ProbeScan {
                            prefix_len: p.len(),
                            lo: Bound::Unbounded,
                            hi: Bound::Unbounded,
                            buf: VecDeque::new(),
                            exhausted: true,
                        });
                        continue;
                    };
                    let mut exhausted = false;
                    if let Some(pos) = &start {
                        let probe = pos.probe as usize;
                        let resume = || {
                            let mut k = p.clone();
                            k.extend_from_slice(&pos.key);
                            Bound::Excluded(k)
                        };
                        if plan.merge || i == probe {
                            if plan.reverse {
                                hi = tighter_hi(hi, resume());
                            } else {
                                lo = tighter_lo(lo, resume());
                            }
                        } else if i < probe {
                            exhausted = true;
                        }
                        current = if plan.merge { 0 } else { probe };
                    }
                    scans.push(ProbeScan {
                        prefix_len: p.len(),
                        lo,
                        hi,
                        buf: VecDeque::new(),
                        exhausted,
                    });
                }
                if plan.reverse && !plan.merge {
                    // Probes are in ascending key order; a descending read walks them backwards.
                    scans.reverse();
                    if let Some(pos) = &start {
                        current = scans.len().saturating_sub(1 + pos.probe as usize);
                        for s in scans.iter_mut().take(current) {
                            s.exhausted = true;
                            s.buf.clear();
                        }
                    }
                }
                Source2::Index {
                    table: info.index_tables[*index].clone(),
                    scans,
                    current,
                }
            }
        };
        let mut exec = Exec {
            last: Last::None,
            batch: BATCH,
            tx,
            info,
            plan,
            source,
            scratch: Vec::new(),
            _t: PhantomData,
        };
        if exec.plan.sort.is_some() {
            exec.sort_all(start)?;
        }
        Ok(exec)
    }

    /// Reads the row an index entry points at, if the query admits it.
    fn load(&mut self, id: u64) -> Result<Option<Doc<T>>> {
        let info = self.info;
        let doc = self
            .tx
            .with_row(T::NAME, id, |bytes| decode_doc::<T>(info, id, bytes))?;
        let Some(doc) = doc else {
            return Err(storage::corrupt(
                T::NAME,
                Some(id),
                "an index entry points to a row that does not exist",
            ));
        };
        self.admit(doc)
    }

    /// The row if its deletion state and the post-filters admit it.
    fn admit(&mut self, doc: Doc<T>) -> Result<Option<Doc<T>>> {
        if !self.plan.vis.admits(doc.deleted_at().is_some()) {
            return Ok(None);
        }
        if let Some(r) = &self.plan.residual {
            let ok = r
                .eval(doc.value(), &mut self.scratch)
                .map_err(|why| Error::InvalidQuery {
                    table: T::NAME,
                    reason: why,
                })?;
            if !ok {
                return Ok(None);
            }
        }
        Ok(Some(doc))
    }

    fn sort_key(&mut self, doc: &Doc<T>, keys: &[(usize, bool)]) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::with_capacity(keys.len());
        for (c, _) in keys {
            let mut k = Vec::new();
            doc.value()
                .encode_column_key(*c, &mut k)
                .map_err(|e| Error::Encode {
                    table: T::NAME,
                    column: self.info.schema.columns[*c].name,
                    detail: e.detail,
                })?;
            out.push(k);
        }
        Ok(out)
    }

    /// Reads every candidate, sorts in memory, and keeps what comes after `start`.
    fn sort_all(&mut self, start: Option<Position>) -> Result<()> {
        let keys = self.plan.sort.clone().unwrap_or_default();
        let mut ids: Vec<u64> = Vec::new();
        let mut scanned: Vec<Doc<T>> = Vec::new();
        match &self.plan.access {
            Access::Rows => {
                let info = self.info;
                self.tx.scan_rows(
                    T::NAME,
                    Bound::Unbounded,
                    Bound::Unbounded,
                    false,
                    &mut |id, bytes| {
                        scanned.push(decode_doc::<T>(info, id, bytes)?);
                        Ok(true)
                    },
                )?;
            }
            Access::Index {
                index,
                probes,
                range,
            } => {
                let table = &self.info.index_tables[*index];
                for p in probes {
                    let (lo, hi) = probe_bounds(p, range);
                    let Some((lo, hi)) = lo.zip(hi) else { continue };
                    self.tx
                        .scan_index(table, as_ref(&lo), as_ref(&hi), false, &mut |k| {
                            if let Some(id) = storage::id_of_index_key(k) {
                                ids.push(id);
                            }
                            Ok(true)
                        })?;
                }
            }
        }
        let mut rows: Vec<(Vec<Vec<u8>>, u64, Doc<T>)> = Vec::with_capacity(ids.len());
        let mut admitted = Vec::with_capacity(ids.len() + scanned.len());
        for doc in scanned {
            if let Some(doc) = self.admit(doc)? {
                admitted.push(doc);
            }
        }
        for id in ids {
            if let Some(doc) = self.load(id)? {
                admitted.push(doc);
            }
        }
        for doc in admitted {
            let k = self.sort_key(&doc, &keys)?;
            rows.push((k, doc.id.get(), doc));
        }
        let cmp = |a: (&[Vec<u8>], u64), b: (&[Vec<u8>], u64)| -> Ordering {
            for (i, (_, desc)) in keys.iter().enumerate() {
                let o = a.0[i].cmp(&b.0[i]);
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.1.cmp(&b.1)
        };
        rows.sort_by(|a, b| cmp((&a.0, a.1), (&b.0, b.1)));
        let start_key = match start {
            None => None,
            Some(p) => Some(decode_sort_position(&p.key, keys.len()).ok_or_else(|| {
                Error::InvalidCursor {
                    table: T::NAME,
                    reason: "its position does not decode".to_string(),
                }
            })?),
        };
        let out: VecDeque<(Vec<u8>, Doc<T>)> = rows
            .into_iter()
            .filter(|r| {
                start_key
                    .as_ref()
                    .is_none_or(|s| cmp((&r.0, r.1), (&s.0, s.1)) == Ordering::Greater)
            })
            .map(|(k, id, doc)| (encode_sort_position(&k, id), doc))
            .collect();
        self.source = Source2::Sorted(out);
        Ok(())
    }

    /// Skips `n` matching rows. When nothing but the access path decides what matches (no
    /// post-filter, no soft-deleted rows to hide, no in-memory sort), the entries are stepped
    /// over without reading the rows; otherwise rows are read and dropped.
    pub(crate) fn skip(&mut self, mut n: usize) -> Result<()> {
        let entries_decide = self.plan.residual.is_none()
            && (!self.info.may_hold_deleted || self.plan.vis == Visibility::All)
            && !self.plan.merge;
        if entries_decide {
            match &mut self.source {
                Source2::Rows {
                    next,
                    buf,
                    exhausted,
                } => {
                    while n > 0 && buf.pop_front().is_some() {
                        n -= 1;
                    }
                    if n > 0 && !*exhausted {
                        let mut last = None;
                        let mut got = 0usize;
                        self.tx.scan_rows(
                            T::NAME,
                            *next,
                            Bound::Unbounded,
                            false,
                            &mut |id, _| {
                                last = Some(id);
                                got += 1;
                                Ok(got < n)
                            },
                        )?;
                        if got < n {
                            *exhausted = true;
                        }
                        if let Some(id) = last {
                            *next = Bound::Excluded(id);
                            self.last = Last::Id(id);
                        }
                    }
                    return Ok(());
                }
                Source2::Index {
                    table,
                    scans,
                    current,
                } => {
                    let reverse = self.plan.reverse;
                    while n > 0 {
                        let Some(s) = scans.get_mut(*current) else {
                            return Ok(());
                        };
                        s.fill(self.tx, table, reverse, BATCH)?;
                        if s.buf.is_empty() {
                            *current += 1;
                            continue;
                        }
                        let take = n.min(s.buf.len());
                        s.buf.drain(..take);
                        n -= take;
                    }
                    return Ok(());
                }
                Source2::Sorted(_) => {}
            }
        }
        while n > 0 && self.next()?.is_some() {
            n -= 1;
        }
        Ok(())
    }

    /// Where the row last returned by [`next`](Exec::next) stands, for a cursor.
    pub(crate) fn position(&self) -> Option<Position> {
        match &self.last {
            Last::None => None,
            Last::Id(id) => Some(Position {
                probe: 0,
                key: id.to_be_bytes().to_vec(),
            }),
            Last::Key {
                probe,
                key,
                prefix_len,
            } => Some(Position {
                probe: *probe,
                key: key.get(*prefix_len..).unwrap_or_default().to_vec(),
            }),
        }
    }

    /// The next matching row.
    pub(crate) fn next(&mut self) -> Result<Option<Doc<T>>> {
        loop {
            let id = match &mut self.source {
                // Rows were read and filtered while sorting.
                Source2::Sorted(rows) => {
                    return Ok(rows.pop_front().map(|(key, doc)| {
                        self.last = Last::Key {
                            probe: 0,
                            key,
                            prefix_len: 0,
                        };
                        doc
                    }));
                }
                Source2::Rows {
                    next,
                    buf,
                    exhausted,
                } => {
                    if buf.is_empty() && !*exhausted {
                        let mut got = 0;
                        let batch = self.batch;
                        let info = self.info;
                        self.tx.scan_rows(
                            T::NAME,
                            *next,
                            Bound::Unbounded,
                            false,
                            &mut |id, bytes| {
                                buf.push_back(decode_doc::<T>(info, id, bytes)?);
                                got += 1;
                                Ok(got < batch)
                            },
                        )?;
                        if got < batch {
                            *exhausted = true;
                        }
                        if let Some(last) = buf.back() {
                            *next = Bound::Excluded(last.id.get());
                        }
                    }
                    self.batch = BATCH;
                    // Rows read from the table itself are decoded as they are scanned.
                    let Some(doc) = buf.pop_front() else {
                        return Ok(None);
                    };
                    self.last = Last::Id(doc.id.get());
                    if let Some(doc) = self.admit(doc)? {
                        return Ok(Some(doc));
                    }
                    continue;
                }
                Source2::Index {
                    table,
                    scans,
                    current,
                } => {
                    let reverse = self.plan.reverse;
                    let picked = if self.plan.merge {
                        for s in scans.iter_mut() {
                            s.fill(self.tx, table, reverse, self.batch)?;
                        }
                        let mut best: Option<usize> = None;
                        for (i, s) in scans.iter().enumerate() {
                            let Some(k) = s.buf.front() else { continue };
                            let better = match best {
                                None => true,
                                Some(b) => {
                                    let bs = &scans[b];
                                    let (Some(bk), suffix) = (bs.buf.front(), &k[s.prefix_len..])
                                    else {
                                        continue;
                                    };
                                    let o = suffix.cmp(&bk[bs.prefix_len..]);
                                    if reverse { o.is_gt() } else { o.is_lt() }
                                }
                            };
                            if better {
                                best = Some(i);
                            }
                        }
                        best
                    } else {
                        loop {
                            let Some(s) = scans.get_mut(*current) else {
                                break None;
                            };
                            s.fill(self.tx, table, reverse, self.batch)?;
                            if s.buf.is_empty() {
                                *current += 1;
                            } else {
                                break Some(*current);
                            }
                        }
                    };
                    self.batch = BATCH;
                    let Some(i) = picked else { return Ok(None) };
                    let n_scans = scans.len();
                    let s = &mut scans[i];
                    let Some(key) = s.buf.pop_front() else {
                        return Ok(None);
                    };
                    let id = storage::id_of_index_key(&key).ok_or_else(|| {
                        storage::corrupt(T::NAME, None, "index key shorter than an id")
                    })?;
                    // The probe number is the one in ascending order, whatever the direction.
                    let probe = if reverse && !self.plan.merge {
                        n_scans - 1 - i
                    } else {
                        i
                    };
                    self.last = Last::Key {
                        probe: u32::try_from(probe).unwrap_or(u32::MAX),
                        key,
                        prefix_len: s.prefix_len,
                    };
                    id
                }
            };
            if let Some(doc) = self.load(id)? {
                return Ok(Some(doc));
            }
        }
    }
}

fn tighter_lo(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    let key = |x: &Bound<Vec<u8>>| match x {
        Bound::Included(k) => Some((k.clone(), 0u8)),
        Bound::Excluded(k) => Some((k.clone(), 1u8)),
        Bound::Unbounded => None,
    };
    if key(&b) > key(&a) { b } else { a }
}

fn tighter_hi(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    let key = |x: &Bound<Vec<u8>>| match x {
        Bound::Included(k) => (0u8, k.clone(), 1u8),
        Bound::Excluded(k) => (0u8, k.clone(), 0u8),
        Bound::Unbounded => (1u8, Vec::new(), 0u8),
    };
    if key(&b) < key(&a) { b } else { a }
}

fn encode_sort_position(keys: &[Vec<u8>], id: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for k in keys {
        crate::codec::put_bytes(&mut out, k);
    }
    out.extend_from_slice(&id.to_be_bytes());
    out
}

fn decode_sort_position(mut bytes: &[u8], n: usize) -> Option<(Vec<Vec<u8>>, u64)> {
    let mut keys = Vec::with_capacity(n);
    for _ in 0..n {
        keys.push(
            crate::codec::get_bytes(&mut bytes, "sort key")
                .ok()?
                .to_vec(),
        );
    }
    let id: [u8; 8] = bytes.try_into().ok()?;
    Some((keys, u64::from_be_bytes(id)))
}

/// The rows of a query, read in batches as the iterator advances. From [`Query::iter`].
pub struct QueryIter<'tx, T> {
    tx: TxRef<'tx>,
    db: &'tx DbInner,
    withs: Vec<Arc<dyn Load<T>>>,
    exec: Option<Exec<'tx, T>>,
    skip: usize,
    left: Option<usize>,
}

impl<T> fmt::Debug for QueryIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryIter").finish_non_exhaustive()
    }
}

impl<T: Table> Iterator for QueryIter<'_, T> {
    type Item = Result<Doc<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == Some(0) {
            return None;
        }
        let exec = self.exec.as_mut()?;
        loop {
            match exec.next() {
                Err(e) => {
                    self.exec = None;
                    return Some(Err(e));
                }
                Ok(None) => {
                    self.exec = None;
                    return None;
                }
                Ok(Some(doc)) => {
                    if self.skip > 0 {
                        self.skip -= 1;
                        continue;
                    }
                    if let Some(n) = &mut self.left {
                        *n -= 1;
                    }
                    if self.withs.is_empty() {
                        return Some(Ok(doc));
                    }
                    let mut one = [doc];
                    let mut cx = LoadCx {
                        tx: self.tx,
                        db: self.db,
                    };
                    for w in &self.withs {
                        if let Err(e) = w.load_into(&mut cx, &mut one, 1) {
                            self.exec = None;
                            return Some(Err(e));
                        }
                    }
                    let [doc] = one;
                    return Some(Ok(doc));
                }
            }
        }
    }
}

impl<T> Hash for Order<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.column.hash(state);
        self.desc.hash(state);
    }
}
