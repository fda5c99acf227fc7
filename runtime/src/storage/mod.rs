//! The storage layer: the engine seam and what the runtime builds on it.
//!
//! [`engine`] is the seam, the whole of what the runtime asks of a key-value engine;
//! `redb` (the only module naming redb) and `memory` are its engines. Above them,
//! [`ReadStore`] and [`WriteStore`] wrap one engine transaction each with what every engine
//! shares: operation counters, and the typed keyspaces of rows, indexes, counters and jobs
//! ([`Source`] for reads, [`Sink`] for writes). The physical layout:
//!
//! * one keyspace per user table, row id (8 big-endian bytes) -> row bytes;
//! * one keyspace per index, named `table#index`, whose keys are the key-encoded column
//!   values followed by the row id as 8 big-endian bytes, with empty values;
//! * the catalog (`table name -> stored schema as JSON`), the counters (`name -> u64`) and the
//!   scheduled jobs.

pub(crate) mod engine;
pub(crate) mod memory;
pub(crate) mod redb;

use std::cell::Cell;
use std::ops::Bound;

use crate::codec::row::RowHeader;
use crate::error::{Error, Result};

pub use engine::Durability;
pub(crate) use engine::{Engine, Space};
use engine::{ReadTxn, WriteTxn};

/// The prefix of every internal table name; user tables may not use it.
pub(crate) const RESERVED_PREFIX: &str = "__redorm";

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

fn row_bound(b: Bound<u64>) -> Bound<[u8; 8]> {
    match b {
        Bound::Included(id) => Bound::Included(id.to_be_bytes()),
        Bound::Excluded(id) => Bound::Excluded(id.to_be_bytes()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn bytes_bound(b: &Bound<[u8; 8]>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k),
        Bound::Excluded(k) => Bound::Excluded(k),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Ordered reads, for both kinds of transaction.
pub(crate) trait Source {
    /// The engine transaction underneath.
    fn txn(&self) -> &dyn ReadTxn;
    /// Its counters.
    fn counters(&self) -> &Counters;

    /// Calls `f` with the bytes of row `id` of `table`, if it exists.
    fn with_row<R>(
        &self,
        table: &str,
        id: u64,
        f: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<R>> {
        self.counters().read();
        let mut f = Some(f);
        let mut out = None;
        self.txn()
            .get(Space::Rows(table), &id.to_be_bytes(), &mut |bytes| {
                if let Some(f) = f.take() {
                    out = Some(f(bytes));
                }
            })?;
        out.transpose()
    }

    /// Calls `f` with each key of index table `index` in `[lo, hi)` order (reversed when
    /// `reverse`), until `f` returns `false`.
    fn scan_index(
        &self,
        index: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.counters().scan();
        self.txn()
            .scan(Space::Index(index), lo, hi, reverse, &mut |k, _| f(k))
    }

    /// Calls `f` with each row of `table` with id in the range, until `f` returns `false`.
    fn scan_rows(
        &self,
        table: &str,
        lo: Bound<u64>,
        hi: Bound<u64>,
        reverse: bool,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        let (lo, hi) = (row_bound(lo), row_bound(hi));
        self.txn().scan(
            Space::Rows(table),
            bytes_bound(&lo),
            bytes_bound(&hi),
            reverse,
            &mut |k, v| {
                let id = <[u8; 8]>::try_from(k)
                    .map(u64::from_be_bytes)
                    .map_err(|_| corrupt(table, None, "a row key is not 8 bytes"))?;
                f(id, v)
            },
        )
    }

    /// Number of rows in `table`: O(1) where the engine keeps counts, a key scan elsewhere.
    fn row_count(&self, table: &str) -> Result<u64> {
        if let Some(n) = self.txn().len(Space::Rows(table))? {
            return Ok(n);
        }
        let mut n = 0;
        self.txn().scan(
            Space::Rows(table),
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            &mut |_, _| {
                n += 1;
                Ok(true)
            },
        )?;
        Ok(n)
    }

    /// The value of an internal entry (catalog, counter, job).
    fn get_meta(&self, space: Space<'_>, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut out = None;
        self.txn()
            .get(space, key, &mut |v| out = Some(v.to_vec()))?;
        Ok(out)
    }

    /// A counter's value (0 when it was never set).
    fn counter(&self, name: &str) -> Result<u64> {
        match self.get_meta(Space::Seq, name.as_bytes())? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.as_slice())
                .map(u64::from_le_bytes)
                .map_err(|_| {
                    corrupt(
                        "__redorm_seq",
                        None,
                        format!("counter `{name}` is not 8 bytes"),
                    )
                }),
        }
    }
}

/// A read transaction of the engine: a snapshot.
pub(crate) struct ReadStore {
    txn: Box<dyn ReadTxn>,
    counters: Counters,
}

impl ReadStore {
    pub(crate) fn begin(engine: &dyn Engine) -> Result<Self> {
        Ok(ReadStore {
            txn: engine.begin_read()?,
            counters: Counters::default(),
        })
    }

    pub(crate) fn stats(&self) -> TxStats {
        self.counters.stats()
    }
}

impl Source for ReadStore {
    fn txn(&self) -> &dyn ReadTxn {
        &*self.txn
    }
    fn counters(&self) -> &Counters {
        &self.counters
    }
}

/// The write transaction of the engine.
pub(crate) struct WriteStore {
    txn: Box<dyn WriteTxn>,
    pub(crate) counters: Counters,
    /// The first storage write of this transaction that failed: what was written may then be
    /// partial, so the transaction may no longer commit, even if the caller handled the error.
    failed: Option<String>,
}

impl Source for WriteStore {
    fn txn(&self) -> &dyn ReadTxn {
        &*self.txn
    }
    fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl WriteStore {
    pub(crate) fn begin(engine: &dyn Engine) -> Result<Self> {
        Ok(WriteStore {
            txn: engine.begin_write()?,
            counters: Counters::default(),
            failed: None,
        })
    }

    pub(crate) fn stats(&self) -> TxStats {
        self.counters.stats()
    }

    /// Runs one storage write, remembering a failure so the transaction cannot commit after it.
    fn write<R>(&mut self, f: impl FnOnce(&mut dyn WriteTxn) -> Result<R>) -> Result<R> {
        let out = f(&mut *self.txn);
        if let Err(e) = &out
            && self.failed.is_none()
        {
            self.failed = Some(e.to_string());
        }
        out
    }

    /// Stores an internal entry (catalog, job).
    pub(crate) fn put_meta(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<()> {
        self.write(|t| t.put(space, key, value)).map(drop)
    }

    /// Removes an internal entry.
    pub(crate) fn remove_meta(&mut self, space: Space<'_>, key: &[u8]) -> Result<()> {
        self.write(|t| t.remove(space, key)).map(drop)
    }

    /// Sets a counter.
    pub(crate) fn set_counter(&mut self, name: &str, value: u64) -> Result<()> {
        self.write(|t| t.put(Space::Seq, name.as_bytes(), &value.to_le_bytes()))
            .map(drop)
    }

    /// Creates the keyspace of a table's rows if it does not exist yet.
    pub(crate) fn create_rows(&mut self, name: &str) -> Result<()> {
        self.write(|t| t.create(Space::Rows(name)))
    }

    /// Creates index keyspace `name` if it does not exist yet.
    pub(crate) fn create_index(&mut self, name: &str) -> Result<()> {
        self.write(|t| t.create(Space::Index(name)))
    }

    /// Deletes index keyspace `name`.
    pub(crate) fn drop_index(&mut self, name: &str) -> Result<()> {
        self.write(|t| t.drop_space(Space::Index(name)))
    }

    pub(crate) fn commit(self) -> Result<()> {
        if let Some(cause) = self.failed {
            self.txn.rollback()?;
            return Err(Error::TransactionFailed { cause });
        }
        self.txn.commit()
    }

    pub(crate) fn abort(self) -> Result<()> {
        self.txn.rollback()
    }

    pub(crate) fn set_durability(&mut self, d: Durability) -> Result<()> {
        self.txn.set_durability(d)
    }
}

/// A borrowed transaction of either kind, for code that only reads (queries).
#[derive(Clone, Copy)]
pub(crate) enum TxRef<'a> {
    Read(&'a ReadStore),
    Write(&'a WriteStore),
}

impl Source for TxRef<'_> {
    fn txn(&self) -> &dyn ReadTxn {
        match self {
            TxRef::Read(s) => s.txn(),
            TxRef::Write(s) => s.txn(),
        }
    }

    fn counters(&self) -> &Counters {
        match self {
            TxRef::Read(s) => s.counters(),
            TxRef::Write(s) => s.counters(),
        }
    }
}

/// Writes, for write transactions.
pub(crate) trait Sink: Source {
    fn put_row(&mut self, table: &str, id: u64, bytes: &[u8]) -> Result<()>;
    fn remove_row(&mut self, table: &str, id: u64) -> Result<()>;
    fn put_index(&mut self, index: &str, key: &[u8]) -> Result<()>;
    fn remove_index(&mut self, index: &str, key: &[u8]) -> Result<()>;
}

impl Sink for WriteStore {
    fn put_row(&mut self, table: &str, id: u64, bytes: &[u8]) -> Result<()> {
        self.write(|t| t.put(Space::Rows(table), &id.to_be_bytes(), bytes))
            .map(drop)
    }

    fn remove_row(&mut self, table: &str, id: u64) -> Result<()> {
        self.write(|t| t.remove(Space::Rows(table), &id.to_be_bytes()))
            .map(drop)
    }

    fn put_index(&mut self, index: &str, key: &[u8]) -> Result<()> {
        self.write(|t| t.put(Space::Index(index), key, &[]))
            .map(drop)
    }

    fn remove_index(&mut self, index: &str, key: &[u8]) -> Result<()> {
        self.write(|t| t.remove(Space::Index(index), key)).map(drop)
    }
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
