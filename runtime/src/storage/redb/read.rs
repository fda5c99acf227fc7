//! redb's read transactions: a snapshot, with the row and index tables it opened kept open.

use std::cell::RefCell;
use std::ops::Bound;
use std::sync::Arc;

use redb::ReadableTableMetadata;

use super::layout::*;
use crate::error::Result;
use crate::storage::engine::{ReadTxn, Space};

pub(super) type RowTable = redb::ReadOnlyTable<u64, &'static [u8]>;
pub(super) type IndexTable = redb::ReadOnlyTable<&'static [u8], ()>;
/// Tables a read transaction opened (`None`: the table does not exist in this snapshot).
pub(super) type ReadCache<T> = RefCell<Vec<(String, Option<Arc<T>>)>>;

/// A redb read transaction, with the row and index tables it opened kept open.
pub(crate) struct RedbRead {
    pub(super) txn: redb::ReadTransaction,
    pub(super) rows: ReadCache<RowTable>,
    pub(super) indexes: ReadCache<IndexTable>,
}

/// The cached handle of table `name`, opening it on first use. The handle is shared out of the
/// cache so the caller's callback may use the transaction again (no borrow is held).
fn cached<T>(
    cache: &ReadCache<T>,
    name: &str,
    open: impl FnOnce(&str) -> std::result::Result<T, redb::TableError>,
) -> Result<Option<Arc<T>>> {
    if let Some((_, t)) = cache.borrow().iter().find(|(n, _)| n == name) {
        return Ok(t.clone());
    }
    let opened = missing_is_none(open(name))?.map(Arc::new);
    cache.borrow_mut().push((name.to_string(), opened.clone()));
    Ok(opened)
}

fn missing_is_none<T>(r: std::result::Result<T, redb::TableError>) -> Result<Option<T>> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(st(e)),
    }
}

impl RedbRead {
    fn rows(&self, name: &str) -> Result<Option<Arc<RowTable>>> {
        cached(&self.rows, name, |n| self.txn.open_table(row_def(n)))
    }

    fn index(&self, name: &str) -> Result<Option<Arc<IndexTable>>> {
        cached(&self.indexes, name, |n| self.txn.open_table(index_def(n)))
    }
}

/// Runs `$body` with `$t` bound to the open table of `$space` in a read transaction and `$l`
/// to its layout; `$missing` is the answer when the table does not exist in the snapshot.
macro_rules! read_table {
    ($self:ident, $space:expr, $missing:expr, |$t:ident, $l:ident| $body:expr) => {{
        match $space {
            Space::Rows(n) => match $self.rows(n)? {
                Some(t) => {
                    let $t = &*t;
                    type $l = RowsL;
                    $body
                }
                None => Ok($missing),
            },
            Space::Index(n) => match $self.index(n)? {
                Some(t) => {
                    let $t = &*t;
                    type $l = IndexL;
                    $body
                }
                None => Ok($missing),
            },
            Space::Catalog => match missing_is_none($self.txn.open_table(CATALOG))? {
                Some(t) => {
                    let $t = &t;
                    type $l = CatalogL;
                    $body
                }
                None => Ok($missing),
            },
            Space::Seq => match missing_is_none($self.txn.open_table(SEQ))? {
                Some(t) => {
                    let $t = &t;
                    type $l = SeqL;
                    $body
                }
                None => Ok($missing),
            },
            Space::Jobs => match missing_is_none($self.txn.open_table(JOBS))? {
                Some(t) => {
                    let $t = &t;
                    type $l = JobsL;
                    $body
                }
                None => Ok($missing),
            },
        }
    }};
}

impl ReadTxn for RedbRead {
    fn get<R>(
        &self,
        space: Space<'_>,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        read_table!(self, space, None, |t, L| get_in::<L, _, R>(t, key, f))
    }

    fn scan(
        &self,
        space: Space<'_>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
    ) -> Result<()> {
        read_table!(self, space, (), |t, L| scan_in::<L, _>(
            t,
            lo,
            hi,
            reverse,
            |k, v| L::entry(k, v, &mut f)
        ))
    }

    fn scan_keys(
        &self,
        space: Space<'_>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        mut f: impl FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        read_table!(self, space, (), |t, L| scan_in::<L, _>(
            t,
            lo,
            hi,
            reverse,
            |k, _| L::key(k, &mut f)
        ))
    }

    fn len(&self, space: Space<'_>) -> Result<Option<u64>> {
        read_table!(self, space, Some(0), |t, _L| Ok(Some(t.len().map_err(st)?)))
    }
    fn get_row<R>(&self, table: &str, id: u64, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        match self.rows(table)? {
            None => Ok(None),
            Some(t) => match t.get(id) {
                Ok(found) => Ok(found.map(|g| f(g.value()))),
                Err(e) => Err(st(e)),
            },
        }
    }

    fn scan_rows(
        &self,
        table: &str,
        lo: Bound<u64>,
        hi: Bound<u64>,
        reverse: bool,
        f: impl FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        match self.rows(table)? {
            None => Ok(()),
            Some(t) => scan_ids(&*t, lo, hi, reverse, f),
        }
    }
}
