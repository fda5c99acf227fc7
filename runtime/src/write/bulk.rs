//! Bulk writes: `delete_many` and `update` over the rows a filter selects.

use std::fmt;

use super::tx::WriteTx;
use crate::error::{Error, Result};
use crate::model::{Id, Table};
use crate::query::filter::Filter;
use crate::storage;

impl WriteTx {
    /// Deletes the rows of `T` a filter selects, each as [`delete`](WriteTx::delete) would.
    pub fn delete_many<T: Table>(&mut self) -> DeleteMany<'_, T> {
        DeleteMany {
            tx: self,
            filter: None,
            all: false,
            allow_full_scan: false,
        }
    }

    /// Changes the rows of `T` a filter selects, each as [`patch`](WriteTx::patch) would.
    pub fn update<T: Table>(&mut self) -> Update<'_, T> {
        Update {
            tx: self,
            filter: None,
            all: false,
            allow_full_scan: false,
        }
    }

    pub(crate) fn select_ids<T: Table>(
        &self,
        filter: &Option<Filter<T>>,
        all: bool,
        allow_full_scan: bool,
        what: &str,
    ) -> Result<Vec<Id<T>>> {
        let mut q = self.query::<T>();
        match filter {
            Some(f) => q = q.filter(f.clone()),
            None if all => {}
            None => {
                return Err(Error::InvalidQuery {
                    table: T::NAME,
                    reason: format!(
                        "{what} without a filter would touch every row; add .filter(...) or say .all()"
                    ),
                });
            }
        }
        if allow_full_scan {
            q = q.allow_full_scan();
        }
        q.ids()
    }
}

/// Deletes the rows a filter selects; from [`WriteTx::delete_many`].
#[must_use = "nothing is deleted until .execute() is called"]
pub struct DeleteMany<'tx, T> {
    tx: &'tx mut WriteTx,
    filter: Option<Filter<T>>,
    all: bool,
    allow_full_scan: bool,
}

impl<T> fmt::Debug for DeleteMany<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeleteMany")
            .field("filter", &self.filter)
            .field("all", &self.all)
            .finish()
    }
}

/// The selection methods shared by [`DeleteMany`] and [`Update`].
macro_rules! selection_methods {
    ($what:literal) => {
        /// Selects the rows (several calls combine with `AND`).
        pub fn filter(mut self, filter: Filter<T>) -> Self {
            self.filter = Some(match self.filter.take() {
                None => filter,
                Some(prev) => prev.and(filter),
            });
            self
        }
        #[doc = concat!("Selects every row: without a filter, `", $what, "` refuses unless this is said.")]
        pub fn all(mut self) -> Self {
            self.all = true;
            self
        }
        /// Allows a filter no index serves (see strict mode on [`Query`](crate::Query)).
        pub fn allow_full_scan(mut self) -> Self {
            self.allow_full_scan = true;
            self
        }
    };
}

impl<T: Table> DeleteMany<'_, T> {
    selection_methods!("execute");
    /// Deletes each selected row as [`WriteTx::delete`] would; returns how many were selected.
    /// A row already removed by an earlier row's cascade is skipped.
    ///
    /// All or nothing: if one row's delete fails (a `restrict` key, a hook), the rows deleted
    /// before it are restored and the transaction is as it was before the call.
    pub fn execute(self) -> Result<usize> {
        let _span = crate::trace::write(&self.tx.store.span, "delete_many", T::NAME);
        let ids =
            self.tx
                .select_ids(&self.filter, self.all, self.allow_full_scan, "delete_many")?;
        self.tx.atomic(|tx| {
            let mut n = 0;
            for id in ids {
                if storage::row_header(&tx.store, T::NAME, id.get())?.is_some() {
                    tx.delete(id)?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }
}

/// Changes the rows a filter selects; from [`WriteTx::update`].
#[must_use = "nothing is changed until .set(...) is called"]
pub struct Update<'tx, T> {
    tx: &'tx mut WriteTx,
    filter: Option<Filter<T>>,
    all: bool,
    allow_full_scan: bool,
}

impl<T> fmt::Debug for Update<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Update")
            .field("filter", &self.filter)
            .field("all", &self.all)
            .finish()
    }
}

impl<T: Table> Update<'_, T> {
    selection_methods!("set");
    /// Applies `f` to each selected row as [`WriteTx::patch`] would; returns how many.
    ///
    /// All or nothing: if one row's change fails (a unique or foreign-key check, a hook), the
    /// rows changed before it are restored and the transaction is as it was before the call.
    pub fn set(self, f: impl Fn(&mut T)) -> Result<usize> {
        let _span = crate::trace::write(&self.tx.store.span, "update", T::NAME);
        let ids = self
            .tx
            .select_ids(&self.filter, self.all, self.allow_full_scan, "update")?;
        self.tx.atomic(|tx| {
            for id in &ids {
                tx.patch(*id, &f)?;
            }
            Ok(ids.len())
        })
    }
}
