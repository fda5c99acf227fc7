//! The narrow interface between the ORM and the key-value engine.
//!
//! Everything the rest of the crate asks of storage goes through [`Source`] (ordered reads:
//! point gets and ranges over byte keys) and [`Sink`] (puts and removes), implemented for
//! redb's read and write transactions. The physical layout:
//!
//! * one table per user table, `u64 id -> row bytes`, named like the table;
//! * one table per index, `key bytes -> ()`, named `table#index`, whose keys are the
//!   key-encoded column values followed by the row id as 8 big-endian bytes;
//! * `__redorm_catalog` (`table name -> stored schema as JSON`) and `__redorm_seq`
//!   (`table name -> last id given`).

use std::cell::{Cell, RefCell};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::{ReadOnlyTable, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::codec::{self, CodecError};
use crate::error::{Error, Result};

pub(crate) const CATALOG: TableDefinition<'static, &str, &[u8]> =
    TableDefinition::new("__redorm_catalog");
pub(crate) const SEQ: TableDefinition<'static, &str, u64> = TableDefinition::new("__redorm_seq");
/// Scheduled deletions: `due time (biased big-endian) ‖ job id -> job`.
pub(crate) const JOBS: TableDefinition<'static, &[u8], &[u8]> =
    TableDefinition::new("__redorm_jobs");

/// The prefix of every internal table name; user tables may not use it.
pub(crate) const RESERVED_PREFIX: &str = "__redorm";

pub(crate) fn row_def(name: &str) -> TableDefinition<'_, u64, &'static [u8]> {
    TableDefinition::new(name)
}

pub(crate) fn index_def(name: &str) -> TableDefinition<'_, &'static [u8], ()> {
    TableDefinition::new(name)
}

pub(crate) fn index_table_name(table: &str, index: &str) -> String {
    format!("{table}#{index}")
}

/// Length of the id suffix of every index key.
pub(crate) const ID_LEN: usize = 8;

/// Splits the id off the end of an index key.
pub(crate) fn id_of_index_key(key: &[u8]) -> Option<u64> {
    let start = key.len().checked_sub(ID_LEN)?;
    let mut id = [0u8; ID_LEN];
    id.copy_from_slice(&key[start..]);
    Some(u64::from_be_bytes(id))
}

/// The system part of a stored row, before the columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowHeader {
    pub version: u32,
    pub created_at: i64,
    /// When the row was soft-deleted, and the token shared by every row that one delete
    /// soft-deleted (so `undelete` restores exactly those).
    pub deleted: Option<(i64, u64)>,
}

const ROW_FORMAT: u8 = 1;
const FLAG_DELETED: u8 = 1;

impl RowHeader {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.push(ROW_FORMAT);
        codec::put_varint(out, u64::from(self.version));
        codec::put_varint(out, codec::zigzag(self.created_at));
        match self.deleted {
            None => out.push(0),
            Some((at, token)) => {
                out.push(FLAG_DELETED);
                codec::put_varint(out, codec::zigzag(at));
                codec::put_varint(out, token);
            }
        }
    }

    pub(crate) fn read(input: &mut &[u8]) -> std::result::Result<Self, CodecError> {
        let format = codec::take(input, 1, "the row format byte")?[0];
        if format != ROW_FORMAT {
            return Err(CodecError::new(format!("unknown row format {format}")));
        }
        let version = u32::try_from(codec::get_varint(input)?)
            .map_err(|_| CodecError::new("schema version out of range"))?;
        let created_at = codec::unzigzag(codec::get_varint(input)?);
        let flags = codec::take(input, 1, "the row flags")?[0];
        let deleted = match flags {
            0 => None,
            FLAG_DELETED => {
                let at = codec::unzigzag(codec::get_varint(input)?);
                Some((at, codec::get_varint(input)?))
            }
            other => return Err(CodecError::new(format!("unknown row flags 0x{other:02x}"))),
        };
        Ok(RowHeader {
            version,
            created_at,
            deleted,
        })
    }
}

/// Counts of storage operations made by a transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxStats {
    /// Range reads of index tables (a probe, or a batch of a scan).
    pub index_scans: u64,
    /// Point reads of rows by id.
    pub row_reads: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    index_scans: Cell<u64>,
    row_reads: Cell<u64>,
}

impl Counters {
    fn scan(&self) {
        self.index_scans.set(self.index_scans.get() + 1);
    }
    fn read(&self) {
        self.row_reads.set(self.row_reads.get() + 1);
    }
    pub(crate) fn stats(&self) -> TxStats {
        TxStats {
            index_scans: self.index_scans.get(),
            row_reads: self.row_reads.get(),
        }
    }
}

/// Ordered reads, for both kinds of transaction.
pub(crate) trait Source {
    /// Calls `f` with the bytes of row `id` of `table`, if it exists.
    fn with_row<R>(
        &self,
        table: &str,
        id: u64,
        f: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<R>>;

    /// Calls `f` with each key of index table `index` in `[lo, hi)` order (reversed when
    /// `reverse`), until `f` returns `false`.
    fn scan_index(
        &self,
        index: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()>;

    /// Calls `f` with each row of `table` with id in the range, until `f` returns `false`.
    fn scan_rows(
        &self,
        table: &str,
        lo: Bound<u64>,
        hi: Bound<u64>,
        reverse: bool,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()>;

    /// Number of rows in `table` (O(1)).
    fn row_count(&self, table: &str) -> Result<u64>;
}

/// Writes, for write transactions.
pub(crate) trait Sink: Source {
    fn put_row(&mut self, table: &str, id: u64, bytes: &[u8]) -> Result<()>;
    fn remove_row(&mut self, table: &str, id: u64) -> Result<()>;
    fn put_index(&mut self, index: &str, key: &[u8]) -> Result<()>;
    fn remove_index(&mut self, index: &str, key: &[u8]) -> Result<()>;
}

/// Every key that starts with `prefix`, as a `[lo, hi)` pair: `hi` is the smallest byte
/// string greater than every string with the prefix (`None` when there is none).
pub(crate) fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut hi = prefix.to_vec();
    while let Some(last) = hi.pop() {
        if last < 0xFF {
            hi.push(last + 1);
            return Some(hi);
        }
    }
    None
}

fn bound_ref<'a, T: ?Sized>(b: &Bound<&'a T>) -> Bound<&'a T> {
    match b {
        Bound::Included(x) => Bound::Included(*x),
        Bound::Excluded(x) => Bound::Excluded(*x),
        Bound::Unbounded => Bound::Unbounded,
    }
}

type RowTable = ReadOnlyTable<u64, &'static [u8]>;
type IndexTable = ReadOnlyTable<&'static [u8], ()>;

/// redb's read transaction, with the tables it opened kept open for its lifetime.
pub(crate) struct ReadStore {
    txn: redb::ReadTransaction,
    counters: Counters,
    rows: ReadCache<RowTable>,
    indexes: ReadCache<IndexTable>,
}

impl ReadStore {
    pub(crate) fn stats(&self) -> TxStats {
        self.counters.stats()
    }

    pub(crate) fn new(txn: redb::ReadTransaction) -> Self {
        ReadStore {
            txn,
            counters: Counters::default(),
            rows: RefCell::new(Vec::new()),
            indexes: RefCell::new(Vec::new()),
        }
    }

    fn row_table<R>(
        &self,
        table: &str,
        f: impl FnOnce(Option<&RowTable>) -> Result<R>,
    ) -> Result<R> {
        let handle = cached(&self.rows, table, |name| self.txn.open_table(row_def(name)))?;
        f(handle.as_deref())
    }

    fn index_table<R>(
        &self,
        index: &str,
        f: impl FnOnce(Option<&IndexTable>) -> Result<R>,
    ) -> Result<R> {
        let handle = cached(&self.indexes, index, |name| {
            self.txn.open_table(index_def(name))
        })?;
        f(handle.as_deref())
    }
}

/// The cached handle of table `name`, opening it on first use (`None`: no such table yet).
/// The handle is shared out of the cache so `f` may use the store again (no borrow is held).
/// Tables a read transaction opened (`None`: the table does not exist in this snapshot).
type ReadCache<T> = RefCell<Vec<(String, Option<Arc<T>>)>>;

fn cached<T>(
    cache: &ReadCache<T>,
    name: &str,
    open: impl FnOnce(&str) -> std::result::Result<T, redb::TableError>,
) -> Result<Option<Arc<T>>> {
    if let Some((_, t)) = cache.borrow().iter().find(|(n, _)| n == name) {
        return Ok(t.clone());
    }
    let opened = match open(name) {
        Ok(t) => Some(Arc::new(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(e.into()),
    };
    cache.borrow_mut().push((name.to_string(), opened.clone()));
    Ok(opened)
}

/// Calls `f` with the bytes of row `id` of `table`, if it exists.
fn read_row<T: ReadableTable<u64, &'static [u8]>, R>(
    table: &T,
    id: u64,
    f: impl FnOnce(&[u8]) -> Result<R>,
) -> Result<Option<R>> {
    match table.get(id)? {
        None => Ok(None),
        Some(guard) => f(guard.value()).map(Some),
    }
}

fn scan_index_table<T: ReadableTable<&'static [u8], ()>>(
    table: &T,
    lo: Bound<&[u8]>,
    hi: Bound<&[u8]>,
    reverse: bool,
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    // redb panics on an inverted range; an empty one reads nothing.
    if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) =
        (&lo, &hi)
        && l > h
    {
        return Ok(());
    }
    let range = table.range::<&[u8]>((bound_ref(&lo), bound_ref(&hi)))?;
    if reverse {
        for entry in range.rev() {
            let (k, _) = entry?;
            if !f(k.value())? {
                break;
            }
        }
    } else {
        for entry in range {
            let (k, _) = entry?;
            if !f(k.value())? {
                break;
            }
        }
    }
    Ok(())
}

fn scan_row_table<T: ReadableTable<u64, &'static [u8]>>(
    table: &T,
    lo: Bound<u64>,
    hi: Bound<u64>,
    reverse: bool,
    f: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
) -> Result<()> {
    if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) =
        (&lo, &hi)
        && l > h
    {
        return Ok(());
    }
    let range = table.range::<u64>((lo, hi))?;
    if reverse {
        for entry in range.rev() {
            let (k, v) = entry?;
            if !f(k.value(), v.value())? {
                break;
            }
        }
    } else {
        for entry in range {
            let (k, v) = entry?;
            if !f(k.value(), v.value())? {
                break;
            }
        }
    }
    Ok(())
}

impl Source for ReadStore {
    fn row_count(&self, table: &str) -> Result<u64> {
        self.row_table(table, |t| match t {
            None => Ok(0),
            Some(t) => Ok(t.len()?),
        })
    }

    fn with_row<R>(
        &self,
        table: &str,
        id: u64,
        f: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<R>> {
        self.counters.read();
        self.row_table(table, |t| match t {
            None => Ok(None),
            Some(t) => read_row(t, id, f),
        })
    }

    fn scan_index(
        &self,
        index: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.counters.scan();
        self.index_table(index, |t| match t {
            None => Ok(()),
            Some(t) => scan_index_table(t, lo, hi, reverse, f),
        })
    }

    fn scan_rows(
        &self,
        table: &str,
        lo: Bound<u64>,
        hi: Bound<u64>,
        reverse: bool,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.row_table(table, |t| match t {
            None => Ok(()),
            Some(t) => scan_row_table(t, lo, hi, reverse, f),
        })
    }
}

type WriteRows<'a> = redb::Table<'a, u64, &'static [u8]>;
type WriteIndex<'a> = redb::Table<'a, &'static [u8], ()>;
type Handle<T> = Arc<Mutex<T>>;

/// The row and index tables a write transaction has opened, kept open until it ends: redb
/// opens a table with a lookup in its table tree, too slow to repeat for every write.
#[derive(Default)]
pub(crate) struct OpenTables<'a> {
    rows: Mutex<Vec<(String, Handle<WriteRows<'a>>)>>,
    indexes: Mutex<Vec<(String, Handle<WriteIndex<'a>>)>>,
}

fn lock<'b, T>(m: &'b Mutex<T>, name: &str) -> Result<MutexGuard<'b, T>> {
    // The locks are never held across a call back into the store, so a failure here is a bug
    // in this crate: reported as an error, never a deadlock or a panic.
    m.try_lock().map_err(|_| {
        corrupt(
            name,
            None,
            "internal error: a table handle was used re-entrantly; please report this",
        )
    })
}

fn open_cached<T>(
    cache: &Mutex<Vec<(String, Handle<T>)>>,
    name: &str,
    open: impl FnOnce(&str) -> std::result::Result<T, redb::TableError>,
) -> Result<Handle<T>> {
    let mut list = lock(cache, name)?;
    if let Some((_, t)) = list.iter().find(|(n, _)| n == name) {
        return Ok(t.clone());
    }
    let handle = Arc::new(Mutex::new(open(name)?));
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
        lock(&self.rows, name)?.retain(|(n, _)| n != name);
        lock(&self.indexes, name)?.retain(|(n, _)| n != name);
        Ok(())
    }
}

self_cell::self_cell!(
    /// A redb write transaction together with the tables opened in it.
    pub(crate) struct WriteCell {
        owner: redb::WriteTransaction,
        #[not_covariant]
        dependent: OpenTables,
    }
);

/// redb's write transaction, with the row and index tables it opened kept open until it ends.
/// The internal tables (catalog, sequences, jobs) are opened per use through [`WriteStore::txn`].
pub(crate) struct WriteStore {
    cell: Option<WriteCell>,
    pub(crate) counters: Counters,
}

fn borrow_mut<'b, T>(h: &'b Handle<T>, name: &str) -> Result<MutexGuard<'b, T>> {
    lock(h, name)
}

fn borrow<'b, T>(h: &'b Handle<T>, name: &str) -> Result<MutexGuard<'b, T>> {
    lock(h, name)
}

impl WriteStore {
    pub(crate) fn new(txn: redb::WriteTransaction) -> Self {
        WriteStore {
            cell: Some(WriteCell::new(txn, |_| OpenTables::default())),
            counters: Counters::default(),
        }
    }

    fn cell(&self) -> Result<&WriteCell> {
        self.cell
            .as_ref()
            .ok_or_else(|| corrupt("-", None, "internal error: the write transaction is gone"))
    }

    pub(crate) fn stats(&self) -> TxStats {
        self.counters.stats()
    }

    /// Runs `f` on the redb transaction, for the internal tables (never a row or index table:
    /// those are open in the cache).
    pub(crate) fn txn<R>(&self, f: impl FnOnce(&redb::WriteTransaction) -> Result<R>) -> Result<R> {
        self.cell()?.with_dependent(|txn, _| f(txn))
    }

    fn with_rows<R>(
        &self,
        name: &str,
        f: impl FnOnce(&Handle<WriteRows<'_>>) -> Result<R>,
    ) -> Result<R> {
        self.cell()?
            .with_dependent(|txn, open| f(&open.rows(txn, name)?))
    }

    fn with_index<R>(
        &self,
        name: &str,
        f: impl FnOnce(&Handle<WriteIndex<'_>>) -> Result<R>,
    ) -> Result<R> {
        self.cell()?
            .with_dependent(|txn, open| f(&open.index(txn, name)?))
    }

    /// Creates the row or index table `name` if it does not exist yet.
    pub(crate) fn create_rows(&self, name: &str) -> Result<()> {
        self.with_rows(name, |_| Ok(()))
    }

    /// Creates index table `name` if it does not exist yet.
    pub(crate) fn create_index(&self, name: &str) -> Result<()> {
        self.with_index(name, |_| Ok(()))
    }

    /// Deletes index table `name` (closing it first if it is open).
    pub(crate) fn drop_index(&self, name: &str) -> Result<()> {
        self.cell()?.with_dependent(|txn, open| {
            open.forget(name)?;
            txn.delete_table(index_def(name))?;
            Ok(())
        })
    }

    /// Gives the redb transaction back, its tables closed.
    fn into_txn(mut self) -> Result<redb::WriteTransaction> {
        match self.cell.take() {
            Some(cell) => Ok(cell.into_owner()),
            None => Err(corrupt(
                "-",
                None,
                "internal error: the write transaction is gone",
            )),
        }
    }

    pub(crate) fn commit(self) -> Result<()> {
        self.into_txn()?.commit()?;
        Ok(())
    }

    pub(crate) fn abort(self) -> Result<()> {
        self.into_txn()?.abort()?;
        Ok(())
    }

    pub(crate) fn set_durability(&mut self, d: redb::Durability) -> Result<()> {
        let Some(cell) = self.cell.take() else {
            return Err(corrupt(
                "-",
                None,
                "internal error: the write transaction is gone",
            ));
        };
        let mut txn = cell.into_owner();
        let result = txn.set_durability(d);
        self.cell = Some(WriteCell::new(txn, |_| OpenTables::default()));
        result?;
        Ok(())
    }
}

impl Source for WriteStore {
    fn row_count(&self, table: &str) -> Result<u64> {
        self.with_rows(table, |t| Ok(borrow(t, table)?.len()?))
    }

    fn with_row<R>(
        &self,
        table: &str,
        id: u64,
        f: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<R>> {
        self.counters.read();
        self.with_rows(table, |t| read_row(&*borrow(t, table)?, id, f))
    }

    fn scan_index(
        &self,
        index: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.counters.scan();
        self.with_index(index, |t| {
            scan_index_table(&*borrow(t, index)?, lo, hi, reverse, f)
        })
    }

    fn scan_rows(
        &self,
        table: &str,
        lo: Bound<u64>,
        hi: Bound<u64>,
        reverse: bool,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.with_rows(table, |t| {
            scan_row_table(&*borrow(t, table)?, lo, hi, reverse, f)
        })
    }
}

impl Sink for WriteStore {
    fn put_row(&mut self, table: &str, id: u64, bytes: &[u8]) -> Result<()> {
        self.with_rows(table, |t| {
            borrow_mut(t, table)?.insert(id, bytes)?;
            Ok(())
        })
    }

    fn remove_row(&mut self, table: &str, id: u64) -> Result<()> {
        self.with_rows(table, |t| {
            borrow_mut(t, table)?.remove(id)?;
            Ok(())
        })
    }

    fn put_index(&mut self, index: &str, key: &[u8]) -> Result<()> {
        self.with_index(index, |t| {
            borrow_mut(t, index)?.insert(key, ())?;
            Ok(())
        })
    }

    fn remove_index(&mut self, index: &str, key: &[u8]) -> Result<()> {
        self.with_index(index, |t| {
            borrow_mut(t, index)?.remove(key)?;
            Ok(())
        })
    }
}

pub(crate) fn corrupt(table: &str, id: Option<u64>, detail: impl Into<String>) -> Error {
    Error::Corrupt {
        table: table.to_string(),
        id,
        column: None,
        detail: detail.into(),
    }
}

/// The header of row `id` of `table`, if the row exists.
pub(crate) fn row_header<S: Source>(s: &S, table: &str, id: u64) -> Result<Option<RowHeader>> {
    s.with_row(table, id, |bytes| {
        let mut input = bytes;
        RowHeader::read(&mut input).map_err(|e| corrupt(table, Some(id), e.detail))
    })
}

/// The index-key prefix of rows whose foreign key holds `id`.
pub(crate) fn fk_prefix(id: u64, nullable: bool) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    if nullable {
        k.push(1);
    }
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// The row ids under `prefix` in index table `index`, in key order (one range read).
pub(crate) fn probe<S: Source>(s: &S, index: &str, prefix: &[u8]) -> Result<Vec<u64>> {
    let hi = prefix_upper_bound(prefix);
    let hi = hi.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut ids = Vec::new();
    s.scan_index(index, Bound::Included(prefix), hi, false, &mut |k| {
        if let Some(id) = id_of_index_key(k) {
            ids.push(id);
        }
        Ok(true)
    })?;
    Ok(ids)
}
