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
//! `order_by` is served by the chosen index when its columns after the pinned ones are exactly
//! the ordered columns (columns pinned to a single value may be skipped), all ascending or all
//! descending; otherwise the rows are sorted in memory. Several probes are merged in order.
//! Rows with equal order keys come by id in the direction of the last order key, on every path
//! (index forwards or backwards, in-memory sort, relation `order_by`, pagination), so `limit`
//! keeps the same rows whichever path serves the query. A query without `order_by` returns
//! rows in the order of the index it reads, or by id when it reads the table itself.
//!
//! In strict mode (the default) a query whose filter no index narrows, or whose `order_by`
//! no index serves, would read the whole table: it fails with [`Error::IndexRequired`], which
//! names an index that would serve it, unless the query says `allow_full_scan()` or the
//! database was opened with `strict(false)`. A query with neither filter nor order reads rows
//! by id, which is never an error.
//!
//! Comparisons use the column's key order, in which `None` sorts first and floats are in total
//! order (`-NaN < -inf < … < inf < NaN`); but a range (`gt`, `gte`, `lt`, `lte`, `between`)
//! never matches `None` (through an index or per row), while `ne` and `not_in` match it as
//! Rust's `!=` does.

mod aggregate;
pub(crate) mod compare;
mod count;
mod cursor;
mod exec;
pub(crate) mod filter;
mod iter;
mod keys;
mod load;
mod order;
mod plan;
pub(crate) mod read;
mod related;
pub(crate) mod relation;
pub(crate) mod rules;
mod scan;

pub use aggregate::{GroupBy, Numeric};
pub use count::Counted;
pub use cursor::{Cursor, Page};
pub use iter::QueryIter;
pub use order::Order;
pub use rules::Rules;

use std::fmt;
use std::hash::Hasher;
use std::sync::Arc;

use self::cursor::*;
use self::exec::*;
use self::filter::{Expr, Filter};
use self::plan::*;
use self::relation::*;
use self::rules::Viewing;
use self::scan::BATCH;
use crate::catalog::{Catalog, TableInfo};
use crate::error::{Error, Result};
use crate::model::Visibility;
use crate::model::{Doc, Index, Table};
use crate::storage::TxRef;
use crate::trace;

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
    db: &'tx Catalog,
    view: &'tx Viewing,
    /// The filter: the viewer's read rule (if any) and the query's own conditions.
    filter: Option<Expr>,
    /// The query's own conditions alone (strict mode judges these).
    own: Option<Expr>,
    order: Vec<Order<T>>,
    limit: Option<usize>,
    offset: usize,
    using: Option<(usize, &'static str)>,
    allow_full_scan: bool,
    withs: Vec<Arc<dyn Load<T>>>,
    visibility: Visibility,
    max_scan: Option<usize>,
}

/// The fingerprint backward cursors of a query are sealed with.
fn backward_of(fingerprint: u64) -> u64 {
    fingerprint ^ 0x9e37_79b9_7f4a_7c15
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
    pub(crate) fn new(tx: TxRef<'tx>, db: &'tx Catalog, view: &'tx Viewing) -> Self {
        Query {
            tx,
            db,
            view,
            // The viewer's read rule is part of the filter: indexes serve it, and cursors
            // bind to it. Without a viewer, `plan` refuses a table with rules.
            filter: view.read_rule(T::NAME).ok().flatten().cloned(),
            own: None,
            order: Vec::new(),
            limit: None,
            offset: 0,
            using: None,
            allow_full_scan: false,
            withs: Vec::new(),
            visibility: Visibility::Live,
            max_scan: None,
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

    /// Also counts relation `rel` on every row returned, without loading its rows: read it
    /// with [`Doc::count`]. Batched like [`with`](Query::with): one index probe per distinct
    /// parent; only index keys are read for a `has_many` without a filter on a table that
    /// cannot hold soft-deleted rows (row headers too when it can: soft-deleted rows are not
    /// counted unless the relation says `include_deleted()`); a filtered relation or a
    /// `many_to_many` reads the related rows to count them.
    pub fn with_count<C: Table + Clone>(self, rel: Relation<T, C, ToMany>) -> Self {
        self.with(rel.counted())
    }

    fn load_withs(&self, rows: &mut [Doc<T>]) -> Result<()> {
        if self.withs.is_empty() || rows.is_empty() {
            return Ok(());
        }
        let mut cx = LoadCx {
            tx: self.tx,
            db: self.db,
            view: self.view,
        };
        for w in &self.withs {
            w.load_into(&mut cx, rows, 1)?;
        }
        Ok(())
    }

    /// Keeps the rows the filter accepts. Calling it again adds another condition (`AND`).
    pub fn filter(mut self, filter: Filter<T>) -> Self {
        filter.clone().and_into(&mut self.own);
        filter.and_into(&mut self.filter);
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

    /// Bounds how many rows (or index entries) one [`paginate`](Query::paginate) call may
    /// examine, for pages whose post-filters reject many rows: when the bound is reached the
    /// page comes back short (even empty), `is_done` false, with a cursor that continues after
    /// the last row examined — never an error (a bound that runs out on the very last row
    /// gives one more, empty, page with `is_done`). Only `paginate` honours it (other terminals
    /// return whole results), and not for an order sorted in memory, which reads every
    /// matching row first ([`Error::InvalidQuery`] then). `max_scan(0)` is an
    /// [`Error::InvalidQuery`].
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Event { kind: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Event>().in_memory()?;
    /// db.write(|tx| {
    ///     for i in 0..10 { tx.insert(Event { kind: if i == 9 { "alarm" } else { "tick" }.into() })?; }
    ///     Ok(())
    /// })?;
    /// let tx = db.read()?;
    /// let q = tx.query::<Event>().filter(Event::kind().eq("alarm")).allow_full_scan().max_scan(4);
    /// let page = q.paginate(None, 10)?;
    /// assert!(page.items.is_empty() && !page.is_done); // 4 rows examined, none matched
    /// let page = q.paginate(page.next_cursor.as_ref(), 10)?;
    /// let page = q.paginate(page.next_cursor.as_ref(), 10)?;
    /// assert_eq!(page.items.len(), 1);
    /// assert!(page.is_done);
    /// # Ok(()) }
    /// ```
    pub fn max_scan(mut self, n: usize) -> Self {
        self.max_scan = Some(n);
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
        self.view.read_rule(T::NAME)?;
        if let Some(why) = self.filter.as_ref().and_then(Expr::invalid) {
            return Err(Error::InvalidQuery {
                table: T::NAME,
                reason: why.to_string(),
            });
        }
        let order: Vec<(usize, bool)> = self.order.iter().map(|o| (o.column, o.desc)).collect();
        let mut plan = plan(
            &info.schema,
            self.filter.as_ref(),
            &order,
            self.using.map(|u| u.0),
        );
        plan.vis = self.visibility;
        let strict = self.db.strict && !self.allow_full_scan && self.using.is_none();
        // A read rule no index serves is checked per row: strict mode refuses only a query
        // whose own conditions and order would read the whole table.
        let own_full_scan = || -> Result<bool> {
            Ok(match self.view.read_rule(T::NAME)? {
                None => true,
                Some(_) => {
                    plan::plan(
                        &info.schema,
                        self.own.as_ref(),
                        &order,
                        self.using.map(|u| u.0),
                    )
                    .full_scan
                }
            })
        };
        if strict && plan.full_scan && own_full_scan()? {
            return Err(Error::IndexRequired {
                table: T::NAME,
                filter: plan.unserved_text(&self.order),
                suggestion: plan.suggestion(&info.schema, &order),
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
        let plan = plan(
            &info.schema,
            self.filter.as_ref(),
            &order,
            self.using.map(|u| u.0),
        );
        let mut out = format!("query {}\n", T::NAME);
        out.push_str(&plan.describe(&info.schema));
        match self.view.read_rule(T::NAME) {
            Ok(Some(rule)) => out.push_str(&format!(
                "rule: the viewer's read rule {rule} is part of the filter\n"
            )),
            Ok(None) => {}
            Err(e) => out.push_str(&format!("rule: {e}\n")),
        }
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
        if let Some(n) = self.max_scan {
            out.push_str(&format!("max_scan: {n} rows examined per page\n"));
        }
        if let Some(f) = &self.filter {
            for r in f.relation_filters() {
                out.push_str(&format!(
                    "relation filter: {r}: {}, each distinct key once\n",
                    r.test.how(self.db)
                ));
            }
        }
        for w in &self.withs {
            out.push_str(&format!("with: {}\n", w.describe()));
        }
        out
    }

    /// An executor for this query; `need` is how many rows the caller will take at most, so
    /// the first scan reads no more than that (post-filters may make it read on).
    fn exec(&self, start: Option<Position>, need: Option<usize>) -> Result<Exec<'tx, T>> {
        let (plan, info) = (self.plan()?, self.info()?);
        trace::plan(|| plan.describe(&info.schema));
        let mut exec = Exec::new(self.tx, self.db, self.view, info, plan, start)?;
        if let Some(n) = need {
            exec.batch = n.clamp(1, BATCH);
        }
        Ok(exec)
    }

    /// Every matching row (after `offset`, at most `limit`).
    pub fn all(&self) -> Result<Vec<Doc<T>>> {
        let _span = trace::query(self.tx.span(), T::NAME, "all");
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
        let _span = trace::query(self.tx.span(), T::NAME, "first");
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
            view: self.view,
            filter: self.filter.clone(),
            own: self.own.clone(),
            order: self.order.clone(),
            limit: self.limit,
            offset: self.offset,
            using: self.using,
            allow_full_scan: self.allow_full_scan,
            withs: self.withs.clone(),
            visibility: self.visibility,
            max_scan: self.max_scan,
        }
    }

    /// The matching rows as an iterator that reads them in batches as it goes, for results
    /// too large to hold at once. Honours `offset` and `limit`.
    pub fn iter(&self) -> Result<QueryIter<'tx, T>> {
        let _span = trace::query(self.tx.span(), T::NAME, "iter");
        Ok(QueryIter {
            tx: self.tx,
            db: self.db,
            view: self.view,
            withs: self.withs.clone(),
            exec: if self.limit == Some(0) {
                None
            } else {
                // As in `all`: the offset steps over index entries where they decide.
                let mut exec = self.exec(None, self.limit)?;
                exec.skip(self.offset)?;
                Some(exec)
            },
            left: self.limit,
        })
    }

    /// One page of at most `n` rows, starting after `cursor` (from the start when `None`).
    ///
    /// The page's [`next_cursor`](Page::next_cursor) continues where it stopped, and its
    /// [`prev_cursor`](Page::prev_cursor) goes back: given a `prev_cursor`, `paginate` returns
    /// the `n` rows before that page's first row, still in the query's order, with both
    /// cursors again. Cursors are bound to this query (same table, filter, order and index)
    /// and refused by any other. When the
    /// order is served by an index (or there is no order), a page costs O(log n + page size)
    /// however deep it is; rows inserted or deleted between pages never make a row that
    /// existed throughout be skipped or repeated. Without `order_by`, pages go in the order of
    /// the index read (by id for a table read).
    ///
    /// `offset` and `limit` do not combine with cursors: they are an [`Error::InvalidQuery`],
    /// as is `n == 0`.
    ///
    /// A web API hands the cursor out as a string and takes it back in the next request:
    /// `Cursor` displays as URL-safe text and parses back with `FromStr`. A cursor that was
    /// tampered with, or made for another query, is refused with [`Error::InvalidCursor`].
    ///
    /// ```
    /// use redorm::prelude::*;
    /// use redorm::Cursor;
    ///
    /// #[derive(Table, Debug)]
    /// struct Article { #[index] published: i64, title: String }
    ///
    /// /// `GET /articles?after=<cursor>`: a page of titles and the cursor of the next one.
    /// fn list(db: &Db, after: Option<&str>) -> Result<(Vec<String>, Option<String>), redorm::Error> {
    ///     let cursor: Option<Cursor> = after.map(|s| s.parse().unwrap()); // parsing never fails
    ///     let tx = db.read()?;
    ///     let page = tx
    ///         .query::<Article>()
    ///         .order_by(Article::published().desc())
    ///         .paginate(cursor.as_ref(), 2)?;
    ///     let titles = page.items.iter().map(|a| a.title.clone()).collect();
    ///     Ok((titles, page.next_cursor.map(|c| c.to_string())))
    /// }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Article>().in_memory()?;
    /// db.write(|tx| {
    ///     for (published, title) in [(10, "a"), (30, "c"), (20, "b"), (40, "d"), (50, "e")] {
    ///         tx.insert(Article { published, title: title.into() })?;
    ///     }
    ///     Ok(())
    /// })?;
    /// let (first, next) = list(&db, None)?;
    /// assert_eq!(first, ["e", "d"]);
    /// let next = next.expect("more pages");                 // sent to the client as text
    /// let (second, next) = list(&db, Some(&next))?;
    /// assert_eq!(second, ["c", "b"]);
    /// let (last, next) = list(&db, Some(next.as_deref().unwrap()))?;
    /// assert_eq!((last, next), (vec!["a".to_string()], None));
    /// assert!(matches!(list(&db, Some("forged")), Err(redorm::Error::InvalidCursor { .. })));
    /// # Ok(()) }
    /// ```
    pub fn paginate(&self, cursor: Option<&Cursor>, n: usize) -> Result<Page<T>> {
        let _span = trace::query(self.tx.span(), T::NAME, "paginate");
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
        if self.max_scan == Some(0) {
            return Err(Error::InvalidQuery {
                table: T::NAME,
                reason: format!(
                    "max_scan(0) on the query for {} would examine no row; give max_scan at \
                     least 1, or leave it out",
                    self.filter_text()
                ),
            });
        }
        let fingerprint = self.fingerprint();
        let secret = self.db.secret;
        // A cursor is a forward one (`next_cursor`) or a backward one (`prev_cursor`): the
        // two are sealed with different fingerprints of the same query.
        let (start, backward) = match cursor {
            None => (None, false),
            Some(c) => match c.open(T::NAME, fingerprint, secret) {
                Ok(p) => (Some(p), false),
                Err(forward_err) => match c.open(T::NAME, backward_of(fingerprint), secret) {
                    Ok(p) => (Some(p), true),
                    Err(_) => return Err(forward_err),
                },
            },
        };
        let mut plan = self.plan()?;
        if backward {
            plan.reverse = !plan.reverse;
            plan.backward = true;
        }
        if self.max_scan.is_some() && plan.sort.is_some() {
            return Err(Error::InvalidQuery {
                table: T::NAME,
                reason: "max_scan bounds what a page reads, but this query's order is sorted in \
                         memory, which reads every matching row first; add an index that serves \
                         the order, or leave max_scan out"
                    .to_string(),
            });
        }
        let info = self.info()?;
        trace::plan(|| plan.describe(&info.schema));
        let mut exec = Exec::new(self.tx, self.db, self.view, info, plan, start.clone())?;
        // One row past the page tells whether another page follows.
        exec.batch = n.saturating_add(1).clamp(1, BATCH);
        if let Some(budget) = self.max_scan {
            exec.budget = Some(budget);
            exec.batch = exec.batch.min(budget);
        }
        let mut items = Vec::with_capacity(n.min(1024));
        // Positions of the first and the last row read, in reading order.
        let (mut first, mut last) = (None, None);
        while items.len() < n {
            match exec.next()? {
                Some(doc) => {
                    items.push(doc);
                    last = exec.position();
                    if first.is_none() {
                        first.clone_from(&last);
                    }
                }
                None => break,
            }
        }
        // Whether rows may follow in the reading direction.
        let more = if exec.out_of_budget {
            // Cut short: go on after the last row examined.
            last = exec.position().or(last);
            true
        } else {
            items.len() == n && (exec.next()?.is_some() || exec.out_of_budget)
        };
        let forward = |pos: &Position| Cursor::seal(fingerprint, pos, secret);
        let back = |pos: &Position| Cursor::seal(backward_of(fingerprint), pos, secret);
        let (next_pos, prev_pos) = if backward {
            items.reverse();
            (first.as_ref(), if more { last.as_ref() } else { None })
        } else {
            (
                if more { last.as_ref() } else { None },
                if start.is_some() {
                    first.as_ref()
                } else {
                    None
                },
            )
        };
        let next_cursor = next_pos.map(forward).transpose()?;
        let prev_cursor = prev_pos.map(back).transpose()?;
        self.load_withs(&mut items)?;
        Ok(Page {
            items,
            is_done: next_cursor.is_none(),
            next_cursor,
            prev_cursor,
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
