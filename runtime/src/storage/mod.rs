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
mod read_only;
mod redb;
mod undo;

use std::cell::Cell;
use std::ops::Bound;
use std::path::Path;

use crate::codec::row::RowHeader;
use crate::error::{Error, Result};
use crate::trace::TxSpan;

pub(crate) use self::redb::RedbEngine;
pub use engine::Durability;
pub(crate) use engine::{Engine, ReadTxn, Space, WriteTxn};

use self::memory::{MemRead, MemWrite, MemoryEngine};
use self::read_only::ReadOnlyWrite;
pub(crate) use self::redb::OpenOptions;
use self::redb::{RedbRead, RedbWrite};
pub(crate) use self::undo::Mark;
use self::undo::UndoLog;

/// The engine a database runs on. One variant per engine: a `match` per storage operation
/// picks it, and everything below is monomorphized for it.
pub(crate) enum AnyEngine {
    /// redb: a file, or redb's in-memory backend.
    Redb(RedbEngine),
    /// The in-memory test engine.
    Memory(MemoryEngine),
}

impl AnyEngine {
    fn begin_read(&self) -> Result<AnyRead> {
        Ok(match self {
            AnyEngine::Redb(e) => AnyRead::Redb(e.begin_read()?),
            AnyEngine::Memory(e) => AnyRead::Memory(e.begin_read()?),
        })
    }

    fn begin_write(&self) -> Result<AnyWrite> {
        Ok(match self {
            AnyEngine::Redb(e) => AnyWrite::Redb(e.begin_write()?),
            AnyEngine::Memory(e) => AnyWrite::Memory(e.begin_write()?),
        })
    }

    /// The writer that opening the database reconciles the schema in: on a file opened
    /// read-only, a snapshot that refuses every change.
    fn begin_open(&self) -> Result<AnyWrite> {
        match self {
            AnyEngine::Redb(e) if e.is_read_only() => Ok(AnyWrite::ReadOnly(ReadOnlyWrite {
                read: e.begin_read()?,
                path: e.path().map(Path::to_path_buf).unwrap_or_default(),
            })),
            _ => self.begin_write(),
        }
    }
}

/// A snapshot of whichever engine runs.
// The redb variant is the large one and the one used in production: boxing it would add a
// pointer chase to every read to save memory for the test engine.
#[allow(clippy::large_enum_variant)]
pub(crate) enum AnyRead {
    Redb(RedbRead),
    Memory(MemRead),
}

/// The writer of whichever engine runs.
#[allow(clippy::large_enum_variant)] // as for `AnyRead`
pub(crate) enum AnyWrite {
    Redb(RedbWrite),
    Memory(MemWrite),
    /// A file opened read-only, while it opens.
    ReadOnly(ReadOnlyWrite),
}

/// Either transaction kind, borrowed: what reads run on.
#[derive(Clone, Copy)]
pub(crate) enum View<'a> {
    Read(&'a AnyRead),
    Write(&'a AnyWrite),
}

/// Implements [`ReadTxn`] for an enum by passing each call to its variant.
macro_rules! dispatch_reads {
    ($ty:ty: $($variant:ident),+) => {
        impl ReadTxn for $ty {
            fn get<R>(
                &self,
                space: Space<'_>,
                key: &[u8],
                f: impl FnOnce(&[u8]) -> R,
            ) -> Result<Option<R>> {
                match self { $(Self::$variant(t) => t.get(space, key, f),)+ }
            }

            fn scan(
                &self,
                space: Space<'_>,
                lo: Bound<&[u8]>,
                hi: Bound<&[u8]>,
                reverse: bool,
                f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
            ) -> Result<()> {
                match self { $(Self::$variant(t) => t.scan(space, lo, hi, reverse, f),)+ }
            }

            fn scan_keys(
                &self,
                space: Space<'_>,
                lo: Bound<&[u8]>,
                hi: Bound<&[u8]>,
                reverse: bool,
                f: impl FnMut(&[u8]) -> Result<bool>,
            ) -> Result<()> {
                match self { $(Self::$variant(t) => t.scan_keys(space, lo, hi, reverse, f),)+ }
            }

            fn len(&self, space: Space<'_>) -> Result<Option<u64>> {
                match self { $(Self::$variant(t) => t.len(space),)+ }
            }

            fn get_row<R>(
                &self,
                table: &str,
                id: u64,
                f: impl FnOnce(&[u8]) -> R,
            ) -> Result<Option<R>> {
                match self { $(Self::$variant(t) => t.get_row(table, id, f),)+ }
            }

            fn scan_rows(
                &self,
                table: &str,
                lo: Bound<u64>,
                hi: Bound<u64>,
                reverse: bool,
                f: impl FnMut(u64, &[u8]) -> Result<bool>,
            ) -> Result<()> {
                match self { $(Self::$variant(t) => t.scan_rows(table, lo, hi, reverse, f),)+ }
            }
        }
    };
}

dispatch_reads!(AnyRead: Redb, Memory);
dispatch_reads!(AnyWrite: Redb, Memory, ReadOnly);
dispatch_reads!(View<'_>: Read, Write);

impl WriteTxn for AnyWrite {
    fn put(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<bool> {
        match self {
            AnyWrite::Redb(t) => t.put(space, key, value),
            AnyWrite::Memory(t) => t.put(space, key, value),
            AnyWrite::ReadOnly(t) => t.put(space, key, value),
        }
    }

    fn put_new(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<bool> {
        match self {
            AnyWrite::Redb(t) => t.put_new(space, key, value),
            AnyWrite::Memory(t) => t.put_new(space, key, value),
            AnyWrite::ReadOnly(t) => t.put_new(space, key, value),
        }
    }

    fn remove(&mut self, space: Space<'_>, key: &[u8]) -> Result<bool> {
        match self {
            AnyWrite::Redb(t) => t.remove(space, key),
            AnyWrite::Memory(t) => t.remove(space, key),
            AnyWrite::ReadOnly(t) => t.remove(space, key),
        }
    }

    fn create(&mut self, space: Space<'_>) -> Result<()> {
        match self {
            AnyWrite::Redb(t) => t.create(space),
            AnyWrite::Memory(t) => t.create(space),
            AnyWrite::ReadOnly(t) => t.create(space),
        }
    }

    fn drop_space(&mut self, space: Space<'_>) -> Result<()> {
        match self {
            AnyWrite::Redb(t) => t.drop_space(space),
            AnyWrite::Memory(t) => t.drop_space(space),
            AnyWrite::ReadOnly(t) => t.drop_space(space),
        }
    }

    fn set_durability(&mut self, durability: Durability) -> Result<()> {
        match self {
            AnyWrite::Redb(t) => t.set_durability(durability),
            AnyWrite::Memory(t) => t.set_durability(durability),
            AnyWrite::ReadOnly(t) => t.set_durability(durability),
        }
    }

    fn commit(self) -> Result<()> {
        match self {
            AnyWrite::Redb(t) => t.commit(),
            AnyWrite::Memory(t) => t.commit(),
            AnyWrite::ReadOnly(t) => t.commit(),
        }
    }

    fn rollback(self) -> Result<()> {
        match self {
            AnyWrite::Redb(t) => t.rollback(),
            AnyWrite::Memory(t) => t.rollback(),
            AnyWrite::ReadOnly(t) => t.rollback(),
        }
    }
}

/// The prefix of every internal table name; user tables may not use it.
pub(crate) const RESERVED_PREFIX: &str = "__redorm";

pub(crate) fn index_table_name(table: &str, index: &str) -> String {
    format!("{table}#{index}")
}

/// Length of the id suffix of every index key.
pub(crate) const ID_LEN: usize = 8;

/// The row id at the end of an index key of `table`'s index; a key too short to hold one is
/// [`Error::Corrupt`].
pub(crate) fn row_id_of_key(table: &str, key: &[u8]) -> Result<u64> {
    id_of_index_key(key).ok_or_else(|| corrupt(table, None, "index key shorter than an id"))
}

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

/// Ordered reads, for both kinds of transaction.
pub(crate) trait Source {
    /// The engine transaction underneath.
    fn txn(&self) -> View<'_>;
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
        self.txn().get_row(table, id, f)?.transpose()
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
            .scan_keys(Space::Index(index), lo, hi, reverse, f)
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
        self.txn().scan_rows(table, lo, hi, reverse, f)
    }

    /// Number of rows in `table`: O(1) where the engine keeps counts, a key scan elsewhere.
    fn row_count(&self, table: &str) -> Result<u64> {
        if let Some(n) = self.txn().len(Space::Rows(table))? {
            return Ok(n);
        }
        let mut n = 0;
        self.txn().scan_keys(
            Space::Rows(table),
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            |_| {
                n += 1;
                Ok(true)
            },
        )?;
        Ok(n)
    }

    /// The value of an internal entry (catalog, counter, job).
    fn get_meta(&self, space: Space<'_>, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.txn().get(space, key, <[u8]>::to_vec)
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
    txn: AnyRead,
    counters: Counters,
    pub(crate) span: TxSpan,
}

impl ReadStore {
    pub(crate) fn begin(engine: &AnyEngine) -> Result<Self> {
        Ok(ReadStore {
            txn: engine.begin_read()?,
            counters: Counters::default(),
            span: TxSpan::read(),
        })
    }

    pub(crate) fn stats(&self) -> TxStats {
        self.counters.stats()
    }
}

impl Source for ReadStore {
    fn txn(&self) -> View<'_> {
        View::Read(&self.txn)
    }
    fn counters(&self) -> &Counters {
        &self.counters
    }
}

/// The write transaction of the engine.
pub(crate) struct WriteStore {
    txn: AnyWrite,
    pub(crate) counters: Counters,
    /// The first storage write of this transaction that failed: what was written may then be
    /// partial, so the transaction may no longer commit, even if the caller handled the error.
    failed: Option<String>,
    /// What the writes since the open marks overwrote, to roll one call back.
    undo: UndoLog,
    pub(crate) span: TxSpan,
}

impl Source for WriteStore {
    fn txn(&self) -> View<'_> {
        View::Write(&self.txn)
    }
    fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl WriteStore {
    pub(crate) fn begin(engine: &AnyEngine) -> Result<Self> {
        Self::with(engine.begin_write()?)
    }

    /// The write transaction opening runs in (see [`AnyEngine::begin_open`]).
    pub(crate) fn begin_open(engine: &AnyEngine) -> Result<Self> {
        Self::with(engine.begin_open()?)
    }

    /// Whether this is the reconciling snapshot of a file opened read-only.
    pub(crate) fn is_read_only(&self) -> bool {
        matches!(self.txn, AnyWrite::ReadOnly(_))
    }

    fn with(txn: AnyWrite) -> Result<Self> {
        Ok(WriteStore {
            txn,
            counters: Counters::default(),
            failed: None,
            undo: UndoLog::default(),
            span: TxSpan::write(),
        })
    }

    pub(crate) fn stats(&self) -> TxStats {
        self.counters.stats()
    }

    /// Runs one storage write, remembering a failure so the transaction cannot commit after it.
    fn write<R>(&mut self, f: impl FnOnce(&mut AnyWrite) -> Result<R>) -> Result<R> {
        let out = f(&mut self.txn);
        if let Err(e) = &out
            && self.failed.is_none()
        {
            self.failed = Some(e.to_string());
        }
        out
    }

    /// Records what `key` holds before a write changes it, while a mark is open.
    fn remember(&mut self, space: Space<'_>, key: &[u8]) -> Result<()> {
        if self.undo.recording() {
            let old = self.txn.get(space, key, <[u8]>::to_vec)?;
            self.undo.record(space, key, old);
        }
        Ok(())
    }

    fn put(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<()> {
        self.remember(space, key)?;
        self.write(|t| t.put(space, key, value)).map(drop)
    }

    fn remove(&mut self, space: Space<'_>, key: &[u8]) -> Result<()> {
        self.remember(space, key)?;
        self.write(|t| t.remove(space, key)).map(drop)
    }

    /// Opens a point to roll back to: until it is released or rolled back, every write
    /// records what it overwrites. Marks nest.
    pub(crate) fn mark(&mut self) -> Mark {
        self.undo.mark()
    }

    /// Closes `mark`, keeping what was written since it.
    pub(crate) fn release(&mut self, mark: Mark) {
        self.undo.release(mark);
    }

    /// Writes back what every write since `mark` overwrote, newest first, and closes it.
    /// After a failed storage write nothing is written back: the transaction cannot commit.
    pub(crate) fn rollback_to(&mut self, mark: Mark) -> Result<()> {
        let undone = self.undo.take_since(mark);
        if self.failed.is_some() {
            return Ok(());
        }
        for entry in undone {
            let space = entry.space.space();
            match &entry.old {
                Some(old) => self.write(|t| t.put(space, &entry.key, old))?,
                None => self.write(|t| t.remove(space, &entry.key))?,
            };
        }
        Ok(())
    }

    /// Stores an internal entry (catalog, job).
    pub(crate) fn put_meta(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<()> {
        self.put(space, key, value)
    }

    /// Removes an internal entry.
    pub(crate) fn remove_meta(&mut self, space: Space<'_>, key: &[u8]) -> Result<()> {
        self.remove(space, key)
    }

    /// Sets a counter.
    pub(crate) fn set_counter(&mut self, name: &str, value: u64) -> Result<()> {
        self.put(Space::Seq, name.as_bytes(), &value.to_le_bytes())
    }

    /// Stores a new row: row ids are never reused, so a row already stored under `id` means
    /// the table's id sequence was set back (a damaged file). That row is left as it was and
    /// the write is [`Error::Corrupt`].
    pub(crate) fn insert_row(&mut self, table: &str, id: u64, bytes: &[u8]) -> Result<()> {
        let space = Space::Rows(table);
        let key = id.to_be_bytes();
        if self.write(|t| t.put_new(space, &key, bytes))? {
            // The key was free: undoing the insert removes it (no read needed to know).
            if self.undo.recording() {
                self.undo.record(space, &key, None);
            }
            return Ok(());
        }
        Err(Error::Corrupt {
            table: table.to_string(),
            id: Some(id),
            column: None,
            detail: format!(
                "the id sequence of `{table}` gave id {id}, which a stored row already has (the \
                 sequence was set back: the file is damaged); the row was left as it was; run \
                 Db::check_integrity and restore the file from a backup"
            ),
        })
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

    pub(crate) fn commit(mut self) -> Result<()> {
        if let Some(cause) = self.failed {
            self.txn.rollback()?;
            return Err(Error::TransactionFailed { cause });
        }
        let out = self.txn.commit();
        self.span.finish(if out.is_ok() {
            "commit"
        } else {
            "commit_failed"
        });
        out
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

impl TxRef<'_> {
    /// The span of the transaction (see `crate::trace`).
    pub(crate) fn span(&self) -> &TxSpan {
        match self {
            TxRef::Read(s) => &s.span,
            TxRef::Write(s) => &s.span,
        }
    }
}

impl Source for TxRef<'_> {
    fn txn(&self) -> View<'_> {
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
        self.put(Space::Rows(table), &id.to_be_bytes(), bytes)
    }

    fn remove_row(&mut self, table: &str, id: u64) -> Result<()> {
        self.remove(Space::Rows(table), &id.to_be_bytes())
    }

    // Index entries have no value: whether the key was there, which the write itself
    // reports, is all an undo needs, so these skip the read before the write.
    fn put_index(&mut self, index: &str, key: &[u8]) -> Result<()> {
        let space = Space::Index(index);
        let existed = self.write(|t| t.put(space, key, &[]))?;
        if self.undo.recording() && !existed {
            self.undo.record(space, key, None);
        }
        Ok(())
    }

    fn remove_index(&mut self, index: &str, key: &[u8]) -> Result<()> {
        let space = Space::Index(index);
        let existed = self.write(|t| t.remove(space, key))?;
        if self.undo.recording() && existed {
            self.undo.record(space, key, Some(Vec::new()));
        }
        Ok(())
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
        // A key under the prefix holds the prefix and then the id: a shorter one is damaged.
        if k.len() < prefix.len() + ID_LEN {
            return Err(corrupt(
                index,
                None,
                "index key shorter than its prefix and an id",
            ));
        }
        ids.push(id_of_index_key(k).unwrap_or_default());
        Ok(true)
    })?;
    Ok(ids)
}
