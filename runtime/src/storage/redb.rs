//! The storage seam mapped onto redb: the only file of the crate that names redb.
//!
//! Each keyspace is one redb table, typed so the file stays readable with redb's own tools:
//!
//! | keyspace | redb table | key | value |
//! |---|---|---|---|
//! | `Rows(t)` | `t` | `u64` | `&[u8]` |
//! | `Index(i)` | `t#index` | `&[u8]` | `()` |
//! | `Catalog` | `__redorm_catalog` | `&str` | `&[u8]` |
//! | `Seq` | `__redorm_seq` | `&str` | `u64` |
//! | `Jobs` | `__redorm_jobs` | `&[u8]` | `&[u8]` |
//!
//! Row and index tables, used on every operation, stay open for the transaction's lifetime:
//! redb opens a table with a lookup in its table tree, too slow to repeat per call. The
//! internal tables are opened per use.

use std::cell::RefCell;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::engine::{Durability, Engine, ReadTxn, Space, WriteTxn};
use crate::error::{Error, Result, StorageError};

/// Any redb error, as the crate's opaque storage error.
fn st<E: Into<redb::Error>>(e: E) -> Error {
    Error::Storage(StorageError::new(e.into()))
}

fn internal(detail: &str) -> Error {
    Error::Corrupt {
        table: "-".to_string(),
        id: None,
        column: None,
        detail: format!("internal error: {detail}; please report this"),
    }
}

/// How one keyspace's keys and values travel between bytes and redb's types.
trait Layout {
    type K: redb::Key + 'static;
    type V: redb::Value + 'static;
    fn key_in(bytes: &[u8]) -> Result<<Self::K as redb::Value>::SelfType<'_>>;
    fn val_in(bytes: &[u8]) -> Result<<Self::V as redb::Value>::SelfType<'_>>;
    /// `f` of a value as bytes.
    fn value<R>(value: <Self::V as redb::Value>::SelfType<'_>, f: impl FnOnce(&[u8]) -> R) -> R;
    /// `f` of an entry as bytes (this runs once per entry of a scan).
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(
        key: <Self::K as redb::Value>::SelfType<'_>,
        value: <Self::V as redb::Value>::SelfType<'_>,
        f: &mut F,
    ) -> Result<bool>;
    /// `f` of a key as bytes.
    fn key<F: FnMut(&[u8]) -> Result<bool>>(
        key: <Self::K as redb::Value>::SelfType<'_>,
        f: &mut F,
    ) -> Result<bool>;
}

fn u64_be(bytes: &[u8]) -> Result<u64> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| internal("a row key is not 8 bytes"))
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| internal("a catalog or counter key is not UTF-8"))
}

struct RowsL;
impl Layout for RowsL {
    type K = u64;
    type V = &'static [u8];
    fn key_in(b: &[u8]) -> Result<u64> {
        u64_be(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(k: u64, v: &[u8], f: &mut F) -> Result<bool> {
        f(&k.to_be_bytes(), v)
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: u64, f: &mut F) -> Result<bool> {
        f(&k.to_be_bytes())
    }
    fn val_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn value<R>(v: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
        f(v)
    }
}

struct IndexL;
impl Layout for IndexL {
    type K = &'static [u8];
    type V = ();
    fn key_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(k: &[u8], _: (), f: &mut F) -> Result<bool> {
        f(k, &[])
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: &[u8], f: &mut F) -> Result<bool> {
        f(k)
    }
    fn val_in(_: &[u8]) -> Result<()> {
        Ok(())
    }
    fn value<R>(_: (), f: impl FnOnce(&[u8]) -> R) -> R {
        f(&[])
    }
}

struct CatalogL;
impl Layout for CatalogL {
    type K = &'static str;
    type V = &'static [u8];
    fn key_in(b: &[u8]) -> Result<&str> {
        utf8(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(k: &str, v: &[u8], f: &mut F) -> Result<bool> {
        f(k.as_bytes(), v)
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: &str, f: &mut F) -> Result<bool> {
        f(k.as_bytes())
    }
    fn val_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn value<R>(v: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
        f(v)
    }
}

struct SeqL;
impl Layout for SeqL {
    type K = &'static str;
    type V = u64;
    fn key_in(b: &[u8]) -> Result<&str> {
        utf8(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(k: &str, v: u64, f: &mut F) -> Result<bool> {
        f(k.as_bytes(), &v.to_le_bytes())
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: &str, f: &mut F) -> Result<bool> {
        f(k.as_bytes())
    }
    fn val_in(b: &[u8]) -> Result<u64> {
        <[u8; 8]>::try_from(b)
            .map(u64::from_le_bytes)
            .map_err(|_| internal("a counter value is not 8 bytes"))
    }
    fn value<R>(v: u64, f: impl FnOnce(&[u8]) -> R) -> R {
        f(&v.to_le_bytes())
    }
}

struct JobsL;
impl Layout for JobsL {
    type K = &'static [u8];
    type V = &'static [u8];
    fn key_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(
        k: &[u8],
        v: &[u8],
        f: &mut F,
    ) -> Result<bool> {
        f(k, v)
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: &[u8], f: &mut F) -> Result<bool> {
        f(k)
    }
    fn val_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn value<R>(v: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
        f(v)
    }
}

const CATALOG: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("__redorm_catalog");
const SEQ: TableDefinition<'static, &str, u64> = TableDefinition::new("__redorm_seq");
const JOBS: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("__redorm_jobs");

fn row_def(name: &str) -> TableDefinition<'_, u64, &'static [u8]> {
    TableDefinition::new(name)
}

fn index_def(name: &str) -> TableDefinition<'_, &'static [u8], ()> {
    TableDefinition::new(name)
}

fn get_in<L: Layout, T: ReadableTable<L::K, L::V>, R>(
    table: &T,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>> {
    match table.get(L::key_in(key)?) {
        Ok(found) => Ok(found.map(|guard| L::value(guard.value(), f))),
        Err(e) => Err(st(e)),
    }
}

fn bound_in<L: Layout>(b: Bound<&[u8]>) -> Result<Bound<<L::K as redb::Value>::SelfType<'_>>> {
    Ok(match b {
        Bound::Included(k) => Bound::Included(L::key_in(k)?),
        Bound::Excluded(k) => Bound::Excluded(L::key_in(k)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

fn scan_in<L: Layout, T: ReadableTable<L::K, L::V>>(
    table: &T,
    lo: Bound<&[u8]>,
    hi: Bound<&[u8]>,
    reverse: bool,
    mut visit: impl FnMut(
        <L::K as redb::Value>::SelfType<'_>,
        <L::V as redb::Value>::SelfType<'_>,
    ) -> Result<bool>,
) -> Result<()> {
    // redb panics on an inverted range; an empty one reads nothing. Byte order is key order
    // for every layout (big-endian ids, byte strings, UTF-8).
    if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) =
        (&lo, &hi)
        && l > h
    {
        return Ok(());
    }
    let range = table
        .range((bound_in::<L>(lo)?, bound_in::<L>(hi)?))
        .map_err(st)?;
    if reverse {
        for entry in range.rev() {
            // A `match`, not `map_err`: re-wrapping the entry in another `Result` copies its
            // page guards, once per entry.
            let (k, v) = match entry {
                Ok(kv) => kv,
                Err(e) => return Err(st(e)),
            };
            if !visit(k.value(), v.value())? {
                break;
            }
        }
    } else {
        for entry in range {
            // A `match`, not `map_err`: re-wrapping the entry in another `Result` copies its
            // page guards, once per entry.
            let (k, v) = match entry {
                Ok(kv) => kv,
                Err(e) => return Err(st(e)),
            };
            if !visit(k.value(), v.value())? {
                break;
            }
        }
    }
    Ok(())
}

/// A row table's rows by id range, without turning ids into bytes and back.
fn scan_ids<T: ReadableTable<u64, &'static [u8]>>(
    table: &T,
    lo: Bound<u64>,
    hi: Bound<u64>,
    reverse: bool,
    mut f: impl FnMut(u64, &[u8]) -> Result<bool>,
) -> Result<()> {
    if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) =
        (&lo, &hi)
        && l > h
    {
        return Ok(());
    }
    let range = table.range::<u64>((lo, hi)).map_err(st)?;
    // The loop body is written out for each direction (as in a hand-written loop): a shared
    // closure is not inlined, and this runs once per row.
    if reverse {
        for entry in range.rev() {
            // A `match`, not `map_err`: re-wrapping the entry in another `Result` copies its
            // page guards, once per entry.
            let (k, v) = match entry {
                Ok(kv) => kv,
                Err(e) => return Err(st(e)),
            };
            if !f(k.value(), v.value())? {
                break;
            }
        }
    } else {
        for entry in range {
            // A `match`, not `map_err`: re-wrapping the entry in another `Result` copies its
            // page guards, once per entry.
            let (k, v) = match entry {
                Ok(kv) => kv,
                Err(e) => return Err(st(e)),
            };
            if !f(k.value(), v.value())? {
                break;
            }
        }
    }
    Ok(())
}

/// The engine over one redb database (a file, or redb's in-memory backend).
pub(crate) struct RedbEngine {
    db: redb::Database,
}

impl RedbEngine {
    /// Opens (or creates) the database file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        Ok(RedbEngine {
            db: redb::Database::create(path).map_err(st)?,
        })
    }

    /// A fresh database in memory.
    pub(crate) fn in_memory() -> Result<Self> {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(st)?;
        Ok(RedbEngine { db })
    }
}

impl Engine for RedbEngine {
    type Read = RedbRead;
    type Write = RedbWrite;

    fn begin_read(&self) -> Result<RedbRead> {
        Ok(RedbRead {
            txn: self.db.begin_read().map_err(st)?,
            rows: RefCell::new(Vec::new()),
            indexes: RefCell::new(Vec::new()),
        })
    }

    fn begin_write(&self) -> Result<RedbWrite> {
        let txn = self.db.begin_write().map_err(st)?;
        Ok(RedbWrite {
            cell: Some(WriteCell::new(txn, |_| OpenTables::default())),
        })
    }
}

// ---- reads ---------------------------------------------------------------------------------

type RowTable = redb::ReadOnlyTable<u64, &'static [u8]>;
type IndexTable = redb::ReadOnlyTable<&'static [u8], ()>;
/// Tables a read transaction opened (`None`: the table does not exist in this snapshot).
type ReadCache<T> = RefCell<Vec<(String, Option<Arc<T>>)>>;

/// A redb read transaction, with the row and index tables it opened kept open.
pub(crate) struct RedbRead {
    txn: redb::ReadTransaction,
    rows: ReadCache<RowTable>,
    indexes: ReadCache<IndexTable>,
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

// ---- writes --------------------------------------------------------------------------------

type WriteRows<'a> = redb::Table<'a, u64, &'static [u8]>;
type WriteIndex<'a> = redb::Table<'a, &'static [u8], ()>;
type Handle<T> = Arc<Mutex<T>>;

/// The row and index tables a write transaction has opened, kept open until it ends.
#[derive(Default)]
struct OpenTables<'a> {
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
    struct WriteCell {
        owner: redb::WriteTransaction,
        #[not_covariant]
        dependent: OpenTables,
    }
);

/// The redb write transaction (the `Option` is empty only while durability is being set).
pub(crate) struct RedbWrite {
    cell: Option<WriteCell>,
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
