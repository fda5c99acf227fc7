//! Relation counts: `with_count(User::posts())` gives each row the number of its related rows
//! without loading them, batched like `with`.

use std::collections::HashMap;

use super::relation::{Load, LoadCx, Path, Relation, ToMany};
use crate::catalog::child_index;
use crate::error::Result;
use crate::model::{Doc, Table};
use crate::storage::{self, fk_prefix, probe};

/// A count of a to-many relation, as a [`Load`]: from [`Relation::counted`], or what
/// [`Query::with_count`](crate::Query::with_count) takes.
pub struct Counted<P, C> {
    rel: Relation<P, C, ToMany>,
}

impl<P, C> Clone for Counted<P, C> {
    fn clone(&self) -> Self {
        Counted {
            rel: self.rel.clone(),
        }
    }
}

impl<P, C> std::fmt::Debug for Counted<P, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Counted({})", self.rel.name)
    }
}

impl<P, C> Relation<P, C, ToMany> {
    /// This relation's row count per parent, as a loader for
    /// [`Query::with_count`](crate::Query::with_count) or
    /// [`ReadTx::load_into`](crate::ReadTx::load_into). Its `filter` and `include_deleted`
    /// decide what is counted; `order_by`, `offset`, `limit` and nested `with` do not apply.
    pub fn counted(self) -> Counted<P, C> {
        Counted { rel: self }
    }
}

impl<P: Table, C: Table + Clone> Load<P> for Counted<P, C> {
    fn describe(&self) -> String {
        let mut out = format!("count of {} ({}", self.rel.name, C::NAME);
        if let Some(f) = &self.rel.filter {
            out.push_str(&format!(", where {f}"));
        }
        out.push_str(
            if self.rel.filter.is_none() && matches!(self.rel.path, Path::Children { .. }) {
                ", one index probe per parent, rows not loaded)"
            } else {
                ", related rows read to count them)"
            },
        );
        out
    }

    fn load_into(&self, cx: &mut LoadCx<'_>, parents: &mut [Doc<P>], depth: usize) -> Result<()> {
        let counts = self.counts(cx, parents, depth)?;
        for (parent, n) in parents.iter_mut().zip(counts) {
            parent.loaded_mut().set_count(self.rel.name, n);
        }
        Ok(())
    }
}

impl<P: Table, C: Table + Clone> Counted<P, C> {
    fn counts(&self, cx: &mut LoadCx<'_>, parents: &[Doc<P>], depth: usize) -> Result<Vec<usize>> {
        let rel = &self.rel;
        let info = cx.db.info::<C>()?;
        // Index keys decide alone where no row can be hidden and no filter looks at rows: a
        // has_many on a table without soft deletion, or any has_many under include_deleted.
        if let Path::Children { column, nullable } = &rel.path
            && rel.filter.is_none()
            && !cx.view.narrows(C::NAME)
        {
            let index = child_index(info, *column)?;
            let table = &info.index_tables[index];
            let hide = info.may_hold_deleted && !rel.include_deleted;
            let mut distinct: Vec<u64> = parents.iter().map(|p| p.id.get()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            rel.check_level(cx, distinct.len(), depth)?;
            let mut of: HashMap<u64, usize> = HashMap::with_capacity(distinct.len());
            for pid in distinct {
                let ids = probe(&cx.tx, table, &fk_prefix(pid, *nullable))?;
                let n = if hide {
                    let mut live = 0;
                    for id in ids {
                        let header = storage::row_header(&cx.tx, C::NAME, id)?;
                        live += usize::from(header.is_some_and(|h| h.deleted.is_none()));
                    }
                    live
                } else {
                    ids.len()
                };
                of.insert(pid, n);
            }
            return Ok(parents
                .iter()
                .map(|p| of.get(&p.id.get()).copied().unwrap_or(0))
                .collect());
        }
        // A filter, or a many_to_many (whose join rows and targets may be hidden): the rows are
        // read, batched as `with` reads them, and counted.
        let mut plain = rel.clone();
        plain.order.clear();
        plain.offset = 0;
        plain.limit = None;
        plain.withs.clear();
        plain.depth = 1;
        let refs: Vec<&Doc<P>> = parents.iter().collect();
        Ok(plain
            .fetch(cx, &refs, depth)?
            .iter()
            .map(Vec::len)
            .collect())
    }
}

impl<T> Doc<T> {
    /// The number of related rows [`with_count`](crate::Query::with_count) counted for `rel`
    /// on this row, or `None` if it was not counted.
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
    ///     tx.insert(User { name: "bob".into() })?;
    ///     for published in [true, false, true] {
    ///         tx.insert(Post { author_id: ann, published })?;
    ///     }
    ///     Ok(())
    /// })?;
    /// let tx = db.read()?;
    /// let users = tx
    ///     .query::<User>()
    ///     .with_count(User::posts())
    ///     .with_count(User::posts().filter(Post::published().eq(true)).named("published"))
    ///     .all()?;
    /// assert_eq!(users[0].count(User::posts()), Some(3));
    /// assert_eq!(users[0].count_named("published"), Some(2));
    /// assert_eq!(users[1].count(User::posts()), Some(0));
    /// # Ok(()) }
    /// ```
    pub fn count<C>(&self, rel: Relation<T, C, ToMany>) -> Option<usize> {
        self.loaded.count(rel.name)
    }

    /// A count stored under a name given with [`Relation::named`].
    pub fn count_named(&self, name: &str) -> Option<usize> {
        self.loaded.count(name)
    }
}
