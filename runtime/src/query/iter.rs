//! Streaming a query: rows in batches, relations loaded per row.

use super::relation::*;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::model::{Doc, Table};
use crate::storage::TxRef;
use std::fmt;
use std::sync::Arc;

use super::exec::*;

/// The rows of a query, read in batches as the iterator advances. From [`Query::iter`](crate::Query::iter).
pub struct QueryIter<'tx, T> {
    pub(crate) tx: TxRef<'tx>,
    pub(crate) db: &'tx Catalog,
    pub(crate) view: &'tx super::rules::Viewing,
    pub(crate) withs: Vec<Arc<dyn Load<T>>>,
    pub(crate) exec: Option<Exec<'tx, T>>,
    pub(crate) left: Option<usize>,
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
        let doc = match exec.next() {
            Err(e) => {
                self.exec = None;
                return Some(Err(e));
            }
            Ok(None) => {
                self.exec = None;
                return None;
            }
            Ok(Some(doc)) => doc,
        };
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
            view: self.view,
        };
        for w in &self.withs {
            if let Err(e) = w.load_into(&mut cx, &mut one, 1) {
                self.exec = None;
                return Some(Err(e));
            }
        }
        let [doc] = one;
        Some(Ok(doc))
    }
}
