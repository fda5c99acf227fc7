//! redb's write transaction, with the row and index tables it opened kept open until it ends
//! (redb opens a table with a lookup in its table tree, too slow to repeat per write).

use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::{ReadableTable, ReadableTableMetadata};

use super::layout::*;
use crate::error::Result;
use crate::storage::engine::{Durability, ReadTxn, Space, WriteTxn};

type WriteRows<'a> = redb::Table<'a, u64, &'static [u8]>;
type WriteIndex<'a> = redb::Table<'a, &'static [u8], ()>;
type Handle<T> = Arc<Mutex<T>>;

/// The row and index tables a write transaction has opened, kept open until it ends.
#[derive(Default)]
pub(super) struct OpenTables<'a> {
    rows: Mutex<Vec<(String, Handle<WriteRows<'a>>)>>,
    indexes: Mutex<Vec<(String, Handle<WriteIndex<'a>>)>>,
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    // The locks are never held across a call back into the store, so a failure here is a bug
    // in this crate: reported as an error, never a deadlock or a panic.
    m.try_lock()
        .map_err(|_| internal("a table handle was used re-entrantly"))
}

fn open_cached<T>(
    cache: &Mutex<Vec<(String, Handle<T>)>>,
    name: &str,
    open: impl FnOnce(&str) -> std::result::Result<T, redb::TableError>,
) -> Result<Handle<T>> {
    let mut list = lock(cache)?;
    if let Some((_, t)) = list.iter().find(|(n, _)| n == name) {
        return Ok(t.clone());
    }
    let handle = Arc::new(Mutex::new(open(name).map_err(st)?));
    list.push((name.to_string(), handle.clone()));
    Ok(handle)
}

impl<'a> OpenTables<'a> {
    fn rows(&self, txn: &'a redb::WriteTransaction, name: &str) -> Result<Handle<WriteRows<'a>>> {
        open_cached(&self.rows, name, |n| txn.open_table(row_def(n)))
    }

    fn index(&self, txn: &'a redb::WriteTransaction, name: &str) -> Result<Handle<WriteIndex<'a>>> {
        open_cached(&self.indexes, name, |n| txn.open_table(index_def(n)))
    }

    fn forget(&self, name: &str) -> Result<()> {
        lock(&self.rows)?.retain(|(n, _)| n != name);
        lock(&self.indexes)?.retain(|(n, _)| n != name);
        Ok(())
    }
}

self_cell::self_cell!(
    /// A redb write transaction together with the tables opened in it.
    pub(super) struct WriteCell {
        owner: redb::WriteTransaction,
        #[not_covariant]
        dependent: OpenTables,
    }
);

/// The redb write transaction (the `Option` is empty only while durability is being set).
pub(crate) struct RedbWrite {
    pub(super) cell: Option<WriteCell>,
}

/// Runs `$body` with `$t` bound to the open redb table of `$space` (a locked handle for row and
/// index tables, a freshly opened table for the internal ones) and `$l` to its layout.
macro_rules! with_table {
    ($self:ident, $space:expr, |$t:ident, $l:ident| $body:expr) => {{
        $self.cell()?.with_dependent(|txn, open| -> Result<_> {
            match $space {
                Space::Rows(n) => {
                    let h = open.rows(txn, n)?;
                    let mut g = lock(&h)?;
                    let $t = &mut *g;
                    type $l = RowsL;
                    $body
                }
                Space::Index(n) => {
                    let h = open.index(txn, n)?;
                    let mut g = lock(&h)?;
                    let $t = &mut *g;
                    type $l = IndexL;
                    $body
                }
                Space::Catalog => {
                    let mut t = txn.open_table(CATALOG).map_err(st)?;
                    let $t = &mut t;
                    type $l = CatalogL;
                    $body
                }
                Space::Seq => {
                    let mut t = txn.open_table(SEQ).map_err(st)?;
                    let $t = &mut t;
                    type $l = SeqL;
                    $body
                }
                Space::Jobs => {
                    let mut t = txn.open_table(JOBS).map_err(st)?;
                    let $t = &mut t;
                    type $l = JobsL;
                    $body
                }
            }
        })
    }};
}

impl RedbWrite {
    fn cell(&self) -> Result<&WriteCell> {
        self.cell
            .as_ref()
            .ok_or_else(|| internal("the write transaction is gone"))
    }

    fn take(&mut self) -> Result<redb::WriteTransaction> {
        match self.cell.take() {
            Some(cell) => Ok(cell.into_owner()),
            None => Err(internal("the write transaction is gone")),
        }
    }
}

impl ReadTxn for RedbWrite {
    fn get<R>(
        &self,
        space: Space<'_>,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        with_table!(self, space, |t, L| get_in::<L, _, R>(&*t, key, f))
    }

    fn scan(
        &self,
        space: Space<'_>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
    ) -> Result<()> {
        with_table!(self, space, |t, L| scan_in::<L, _>(
            &*t,
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
        with_table!(self, space, |t, L| scan_in::<L, _>(
            &*t,
            lo,
            hi,
            reverse,
            |k, _| L::key(k, &mut f)
        ))
    }

    fn len(&self, space: Space<'_>) -> Result<Option<u64>> {
        with_table!(self, space, |t, _L| Ok(Some(t.len().map_err(st)?)))
    }

    fn get_row<R>(&self, table: &str, id: u64, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.cell()?.with_dependent(|txn, open| {
            let h = open.rows(txn, table)?;
            let t = lock(&h)?;
            match t.get(id) {
                Ok(found) => Ok(found.map(|g| f(g.value()))),
                Err(e) => Err(st(e)),
            }
        })
    }

    fn scan_rows(
        &self,
        table: &str,
        lo: Bound<u64>,
        hi: Bound<u64>,
        reverse: bool,
        f: impl FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.cell()?.with_dependent(|txn, open| {
            let h = open.rows(txn, table)?;
            let t = lock(&h)?;
            scan_ids(&*t, lo, hi, reverse, f)
        })
    }
}

impl WriteTxn for RedbWrite {
    fn put(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<bool> {
        with_table!(self, space, |t, L| {
            let old = t.insert(L::key_in(key)?, L::val_in(value)?).map_err(st)?;
            Ok(old.is_some())
        })
    }

    // The macro expands once per layout; the index layout's value is `()`.
    #[allow(clippy::unit_arg)]
    fn put_new(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<bool> {
        // One B-tree descent when the key is new (always, but on a damaged file); the old value
        // is put back when it was not.
        with_table!(self, space, |t, L| {
            let old = t.insert(L::key_in(key)?, L::val_in(value)?).map_err(st)?;
            let Some(old) = old.map(|g| L::value(g.value(), <[u8]>::to_vec)) else {
                return Ok(true);
            };
            t.insert(L::key_in(key)?, L::val_in(&old)?).map_err(st)?;
            Ok(false)
        })
    }

    fn remove(&mut self, space: Space<'_>, key: &[u8]) -> Result<bool> {
        with_table!(self, space, |t, L| {
            let old = t.remove(L::key_in(key)?).map_err(st)?;
            Ok(old.is_some())
        })
    }

    fn create(&mut self, space: Space<'_>) -> Result<()> {
        with_table!(self, space, |_t, _L| Ok(()))
    }

    fn drop_space(&mut self, space: Space<'_>) -> Result<()> {
        self.cell()?.with_dependent(|txn, open| match space {
            Space::Rows(n) => {
                open.forget(n)?;
                txn.delete_table(row_def(n)).map_err(st)?;
                Ok(())
            }
            Space::Index(n) => {
                open.forget(n)?;
                txn.delete_table(index_def(n)).map_err(st)?;
                Ok(())
            }
            Space::Catalog => txn.delete_table(CATALOG).map(drop).map_err(st),
            Space::Seq => txn.delete_table(SEQ).map(drop).map_err(st),
            Space::Jobs => txn.delete_table(JOBS).map(drop).map_err(st),
        })
    }

    fn set_durability(&mut self, durability: Durability) -> Result<()> {
        // redb wants no table open while durability changes: close them, they reopen on use.
        let mut txn = self.take()?;
        let result = txn.set_durability(match durability {
            Durability::Immediate => redb::Durability::Immediate,
            Durability::None => redb::Durability::None,
        });
        self.cell = Some(WriteCell::new(txn, |_| OpenTables::default()));
        result.map_err(st)
    }

    fn commit(mut self) -> Result<()> {
        self.take()?.commit().map_err(st)
    }

    fn rollback(mut self) -> Result<()> {
        self.take()?.abort().map_err(st)
    }
}
