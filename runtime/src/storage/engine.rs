//! The storage-engine seam: everything the runtime asks of a key-value engine.
//!
//! An engine holds named *keyspaces* ([`Space`]) of ordered byte keys mapped to byte values,
//! and gives snapshot reads ([`ReadTxn`]) and one writer at a time ([`WriteTxn`]) that
//! commits or rolls back as a whole. Nothing above this module knows which engine runs:
//! `redb.rs` maps the seam onto redb (the file format users get), `memory.rs` onto ordered
//! maps (for tests, with fault injection).
//!
//! The traits are generic, one implementation per engine, so callbacks are monomorphized
//! into the engine's own loops: the seam costs nothing per key or row beside hand-written
//! code. The runtime holds the engines in one enum (`storage::AnyEngine`) and dispatches with
//! a `match` per operation, not per key.

use std::ops::Bound;

use crate::error::Result;

/// A keyspace of the store.
///
/// Key and value layouts, which every engine keeps as given:
/// * `Rows(table)`: the row id as 8 big-endian bytes -> the row bytes (header, then columns);
/// * `Index(name)`: the index key (encoded column values, then the row id) -> empty;
/// * `Catalog`: a table name (UTF-8) -> its stored schema; also a few internal entries;
/// * `Seq`: a counter name (UTF-8) -> the counter as 8 little-endian bytes;
/// * `Jobs`: the job key (due time, job number) -> the encoded job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Space<'a> {
    /// One user table's rows.
    Rows(&'a str),
    /// One index table.
    Index(&'a str),
    /// The stored schema of every table.
    Catalog,
    /// Counters: id sequences, delete tokens, job numbers.
    Seq,
    /// Scheduled deletions.
    Jobs,
}

/// Whether the range `(lo, hi)` holds no key at all: inverted, or a single point that one
/// side excludes. Engines read nothing for it (redb and `BTreeMap` would panic on some).
pub(crate) fn is_empty_range<T: PartialOrd + ?Sized>(lo: &Bound<&T>, hi: &Bound<&T>) -> bool {
    match (lo, hi) {
        (Bound::Included(l), Bound::Included(h)) => l > h,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) => {
            l >= h
        }
        _ => false,
    }
}

/// How durable a write transaction's commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The commit is on disk when `commit` returns (the default).
    #[default]
    Immediate,
    /// The commit is visible to readers at once but reaches the disk only with the next
    /// `Immediate` commit: for bulk loads, where a crash may lose the tail.
    None,
}

/// A storage engine: where transactions begin.
pub(crate) trait Engine: Send + Sync + 'static {
    /// Its snapshot reads.
    type Read: ReadTxn + Send;
    /// Its writer.
    type Write: WriteTxn + Send;
    /// A consistent snapshot, unaffected by later commits.
    fn begin_read(&self) -> Result<Self::Read>;
    /// The write transaction; waits while another one is open.
    fn begin_write(&self) -> Result<Self::Write>;
}

/// Ordered reads, in a snapshot or in a write transaction (which sees its own writes).
pub(crate) trait ReadTxn {
    /// `f` of the value under `key` (`None`: no such key, or no such space).
    fn get<R>(&self, space: Space<'_>, key: &[u8], f: impl FnOnce(&[u8]) -> R)
    -> Result<Option<R>>;

    /// Calls `f` with each entry whose key is in `(lo, hi)`, in key order (reversed when
    /// `reverse`), until `f` returns `false`. An inverted or empty range reads nothing.
    fn scan(
        &self,
        space: Space<'_>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
    ) -> Result<()>;

    /// As [`scan`](ReadTxn::scan), for the keys alone (index scans: the value is never
    /// needed).
    fn scan_keys(
        &self,
        space: Space<'_>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        mut f: impl FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.scan(space, lo, hi, reverse, |k, _| f(k))
    }

    /// The number of entries in `space`, if the engine knows it without reading them
    /// (`None`: count by a scan).
    fn len(&self, space: Space<'_>) -> Result<Option<u64>>;

    /// `f` of row `id` of `table` (rows are keyed by the id's 8 big-endian bytes; an engine
    /// with integer keys may skip the conversion).
    fn get_row<R>(&self, table: &str, id: u64, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.get(Space::Rows(table), &id.to_be_bytes(), f)
    }

    /// Calls `f` with each row of `table` whose id is in `(lo, hi)`, as [`scan`](ReadTxn::scan).
    fn scan_rows(
        &self,
        table: &str,
        lo: Bound<u64>,
        hi: Bound<u64>,
        reverse: bool,
        mut f: impl FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        let bytes = |b: Bound<u64>| b.map(u64::to_be_bytes);
        let (lo, hi) = (bytes(lo), bytes(hi));
        self.scan(
            Space::Rows(table),
            lo.as_ref().map(|k| k.as_slice()),
            hi.as_ref().map(|k| k.as_slice()),
            reverse,
            |k, v| {
                let id = <[u8; 8]>::try_from(k)
                    .map(u64::from_be_bytes)
                    .map_err(|_| crate::error::Error::Corrupt {
                        table: table.to_string(),
                        id: None,
                        column: None,
                        detail: "a row key is not 8 bytes".to_string(),
                    })?;
                f(id, v)
            },
        )
    }
}

/// The writer: reads plus changes, all kept or all discarded.
pub(crate) trait WriteTxn: ReadTxn {
    /// Stores `value` under `key`; `true` when it replaced a value.
    fn put(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<bool>;
    /// Stores `value` under `key` unless `key` holds a value already, which then stays as it
    /// was; `true` when it stored.
    fn put_new(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<bool> {
        if self.get(space, key, |_| ())?.is_some() {
            return Ok(false);
        }
        self.put(space, key, value).map(|_| true)
    }
    /// Removes `key`; `true` when it was there.
    fn remove(&mut self, space: Space<'_>, key: &[u8]) -> Result<bool>;
    /// Makes sure `space` exists (readers of later snapshots find it empty, not missing).
    fn create(&mut self, space: Space<'_>) -> Result<()>;
    /// Removes `space` with everything in it.
    fn drop_space(&mut self, space: Space<'_>) -> Result<()>;
    /// How durable the commit will be.
    fn set_durability(&mut self, durability: Durability) -> Result<()>;
    /// Makes every change permanent and visible to new snapshots.
    fn commit(self) -> Result<()>;
    /// Discards every change.
    fn rollback(self) -> Result<()>;
}
