//! Relation filters: `User::posts().exists()`, `.none()`, `.any(..)`, `.all(..)` and, on a
//! relation to one row, `.is(..)` — filters on a row's related rows, composable with `and`, `or`
//! and `not` like any other [`Filter`].
//!
//! A relation filter is checked on each row the rest of the query reads (no index of the
//! queried table serves it, so in strict mode it needs an indexed condition beside it or
//! `allow_full_scan()`). For each row it probes the related table's foreign-key index (or reads
//! the one parent row of a `belongs_to`) — one lookup per *distinct* key, remembered for the
//! rest of the query, never a query per row. The related rows are read only when a condition
//! or soft deletion needs them; an unconditional `exists` on a table without soft deletion
//! reads index keys alone.

use std::any::Any;
use std::sync::Arc;

use super::filter::{Env, Expr, Filter, Quant, RelFilter, RelTest};
use super::relation::{Cardinality, LoadCx, MAX_DEPTH, Path, Relation, ToOne};
use crate::catalog::{Catalog, child_index};
use crate::error::{Error, Result};
use crate::model::{Doc, Table};
use crate::storage::{self, fk_prefix, probe};

impl<P: Table, C: Table + Clone, K: Cardinality> Relation<P, C, K> {
    /// Rows with at least one related row (in the relation's `filter`, if it has one;
    /// soft-deleted rows do not count unless it says `include_deleted()`).
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug, Clone)]
    /// #[has_many(posts, Post, by = author_id)]
    /// struct User { name: String }
    /// #[derive(Table, Debug, Clone)]
    /// struct Post {
    ///     #[belongs_to(author, User, on_delete = cascade)]
    ///     author_id: Id<User>,
    ///     published: bool,
    /// }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<User>().table::<Post>().in_memory()?;
    /// db.write(|tx| {
    ///     let ann = tx.insert(User { name: "ann".into() })?;
    ///     let bob = tx.insert(User { name: "bob".into() })?;
    ///     tx.insert(User { name: "cy".into() })?;
    ///     tx.insert(Post { author_id: ann, published: true })?;
    ///     tx.insert(Post { author_id: bob, published: false })?;
    ///     Ok(())
    /// })?;
    /// let tx = db.read()?;
    /// let names = |f: redorm::Filter<User>| -> Result<Vec<String>, redorm::Error> {
    ///     Ok(tx.query::<User>().filter(f).allow_full_scan().all()?
    ///         .into_iter().map(|u| u.name.clone()).collect())
    /// };
    /// assert_eq!(names(User::posts().exists())?, ["ann", "bob"]);
    /// assert_eq!(names(User::posts().none())?, ["cy"]);
    /// assert_eq!(names(User::posts().any(Post::published().eq(true)))?, ["ann"]);
    /// // `all` holds for a user without posts, as "every post of cy is published" does.
    /// assert_eq!(names(User::posts().all(Post::published().eq(true)))?, ["ann", "cy"]);
    /// // Composable: users with a post, none of them published.
    /// let f = User::posts().exists().and(User::posts().any(Post::published().eq(true)).not());
    /// assert_eq!(names(f)?, ["bob"]);
    /// # Ok(()) }
    /// ```
    pub fn exists(self) -> Filter<P> {
        self.quantified(Quant::Exists, None)
    }

    /// Rows without any related row: the negation of [`exists`](Relation::exists).
    pub fn none(self) -> Filter<P> {
        self.quantified(Quant::None, None)
    }

    /// Rows with at least one related row that matches `cond`.
    pub fn any(self, cond: Filter<C>) -> Filter<P> {
        self.quantified(Quant::Any, Some(cond.expr))
    }

    /// Rows whose related rows all match `cond` — including rows with no related row, as in
    /// logic and SQL's `NOT EXISTS (… WHERE NOT cond)`. Add `.and(rel.exists())` to leave those
    /// out. A related row whose column is `None` does not match a range on it, so it makes
    /// `all` of that range false.
    pub fn all(self, cond: Filter<C>) -> Filter<P> {
        self.quantified(Quant::All, Some(cond.expr))
    }

    fn quantified(self, quant: Quant, cond: Option<Expr>) -> Filter<P> {
        let relation = self.name;
        let nested = self
            .filter
            .iter()
            .chain(&cond)
            .map(Expr::relation_depth)
            .max()
            .unwrap_or(0);
        if nested >= MAX_DEPTH {
            return Filter::from_expr(Expr::Invalid(Arc::from(format!(
                "relation filters nest deeper than {MAX_DEPTH} levels (at `{}.{relation}`); \
                 split the query",
                P::NAME
            ))));
        }
        // What is looked up: a related row in scope that matches the condition of `any` and
        // `is`, or fails the condition of `all`.
        let mut sought = self.clone();
        sought.order.clear();
        sought.offset = 0;
        sought.limit = None;
        sought.withs.clear();
        sought.depth = 1;
        match (quant, &cond) {
            (Quant::All, Some(c)) => {
                Filter::<C>::from_expr(Expr::Not(Box::new(c.clone()))).and_into(&mut sought.filter)
            }
            (_, Some(c)) => Filter::<C>::from_expr(c.clone()).and_into(&mut sought.filter),
            (_, None) => {}
        }
        Filter::from_expr(Expr::Related(Arc::new(RelFilter {
            relation,
            quant,
            scope: self.filter,
            cond,
            include_deleted: self.include_deleted,
            depth: nested + 1,
            test: Box::new(Sought(sought)),
        })))
    }
}

impl<P: Table, C: Table + Clone> Relation<P, C, ToOne> {
    /// Rows whose related row exists and matches `cond`: on a `belongs_to`, a condition on
    /// the row the foreign key points at (`Post::author().is(User::role().eq(Role::Admin))`);
    /// a null foreign key, or a soft-deleted target, never matches.
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug, Clone)]
    /// struct User { admin: bool }
    /// #[derive(Table, Debug, Clone)]
    /// struct Post {
    ///     #[belongs_to(author, User, on_delete = cascade)]
    ///     author_id: Id<User>,
    ///     title: String,
    /// }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<User>().table::<Post>().in_memory()?;
    /// db.write(|tx| {
    ///     let root = tx.insert(User { admin: true })?;
    ///     let ann = tx.insert(User { admin: false })?;
    ///     tx.insert(Post { author_id: ann, title: "hi".into() })?;
    ///     tx.insert(Post { author_id: root, title: "rules".into() })?;
    ///     Ok(())
    /// })?;
    /// let tx = db.read()?;
    /// let by_admins = tx.query::<Post>()
    ///     .filter(Post::author().is(User::admin().eq(true)))
    ///     .allow_full_scan()
    ///     .all()?;
    /// assert_eq!(by_admins.len(), 1);
    /// assert_eq!(by_admins[0].title, "rules");
    /// # Ok(()) }
    /// ```
    pub fn is(self, cond: Filter<C>) -> Filter<P> {
        self.quantified(Quant::Is, Some(cond.expr))
    }
}

/// The typed test: whether a row has a related row `0` would load.
struct Sought<P, C, K>(Relation<P, C, K>);

impl<P: Table, C: Table + Clone, K: Cardinality> Sought<P, C, K> {
    fn parent<'d>(&self, doc: &'d dyn Any) -> Result<&'d Doc<P>> {
        doc.downcast_ref::<Doc<P>>()
            .ok_or_else(|| Error::InvalidQuery {
                table: P::NAME,
                reason: format!(
                    "the relation filter on `{}` was applied to rows of another table",
                    self.0.name
                ),
            })
    }
}

impl<P: Table, C: Table + Clone, K: Cardinality> RelTest for Sought<P, C, K> {
    fn key(&self, doc: &dyn Any) -> Result<Option<u64>> {
        let doc = self.parent(doc)?;
        Ok(match &self.0.path {
            Path::Parent { column } => doc.value().column_id(*column),
            Path::Children { .. } | Path::Through(_) => Some(doc.id.get()),
        })
    }

    fn found(&self, env: &Env<'_>, doc: &dyn Any) -> Result<bool> {
        let (tx, db, view) = (env.tx, env.db, env.view);
        let doc = self.parent(doc)?;
        let rel = &self.0;
        // No condition on the children and no rule narrowing them: their index keys (and,
        // where rows may be soft-deleted, their headers) decide, and the first live one ends
        // the probe.
        if let Path::Children { column, nullable } = &rel.path
            && rel.filter.is_none()
            && !view.narrows(C::NAME)
        {
            let info = db.info::<C>()?;
            let index = child_index(info, *column)?;
            let ids = probe(
                &tx,
                &info.index_tables[index],
                &fk_prefix(doc.id.get(), *nullable),
            )?;
            if !info.may_hold_deleted || rel.include_deleted {
                return Ok(!ids.is_empty());
            }
            for id in ids {
                if storage::row_header(&tx, C::NAME, id)?.is_some_and(|h| h.deleted.is_none()) {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        let mut cx = LoadCx { tx, db, view };
        let rows = rel.fetch(&mut cx, &[doc], 1)?.into_iter().next();
        let rows = rows.unwrap_or_default();
        if matches!(rel.path, Path::Parent { .. }) {
            // Loading a `belongs_to` takes no filter: the condition is checked here.
            let mut env = Env::new(tx, db, view);
            for row in &rows {
                if rel.keep(row, &mut env)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        Ok(!rows.is_empty())
    }

    fn how(&self, db: &Catalog) -> String {
        let index_name = |info: Result<&crate::catalog::TableInfo>, column: usize| -> String {
            info.and_then(|info| {
                let i = child_index(info, column)?;
                Ok(format!(
                    "{}.{}",
                    info.schema.name, info.schema.indexes[i].name
                ))
            })
            .unwrap_or_else(|e| format!("<{e}>"))
        };
        match &self.0.path {
            Path::Parent { .. } => format!("one read of {} per distinct foreign key", C::NAME),
            Path::Children { column, .. } => format!(
                "one probe of {} per {} row{}",
                index_name(db.info::<C>(), *column),
                P::NAME,
                if self.0.filter.is_some() {
                    ", related rows read and checked"
                } else {
                    ""
                }
            ),
            Path::Through(join) => format!(
                "one probe of {} per {} row, then the {} rows it links",
                index_name(db.info_by_type(join.type_id, join.name), join.from),
                P::NAME,
                C::NAME
            ),
        }
    }
}
