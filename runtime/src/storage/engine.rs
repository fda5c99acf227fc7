//! The storage-engine seam: everything the runtime asks of a key-value engine.
//!
//! An engine holds named *keyspaces* ([`Space`]) of ordered byte keys mapped to byte values,
//! and gives snapshot reads ([`ReadTxn`]) and one writer at a time ([`WriteTxn`]) that
//! commits or rolls back as a whole. Nothing above this module knows which engine runs:
//! `redb.rs` maps the seam onto redb (the file format users get), `memory.rs` onto ordered
//! maps (for tests, with fault injection).
//!
//! The traits are object-safe; the runtime holds a `Box<dyn …>` per transaction. One
//! virtual call per storage operation costs nothing measurable beside a B-tree lookup, and
//! callbacks were already `&mut dyn FnMut`.

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

/// The callback of a scan: gets each key and value, returns whether to go on.
pub(crate) type Visit<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> Result<bool>;

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
    /// A consistent snapshot, unaffected by later commits.
    fn begin_read(&self) -> Result<Box<dyn ReadTxn>>;
    /// The write transaction; waits while another one is open.
    fn begin_write(&self) -> Result<Box<dyn WriteTxn>>;
}

/// Ordered reads, in a snapshot or in a write transaction (which sees its own writes).
pub(crate) trait ReadTxn: Send {
    /// Calls `f` with the value under `key`; `false` when there is none (or no such space).
    fn get(&self, space: Space<'_>, key: &[u8], f: &mut dyn FnMut(&[u8])) -> Result<bool>;

    /// Calls `f` with each entry whose key is in `(lo, hi)`, in key order (reversed when
    /// `reverse`), until `f` returns `false`. An inverted or empty range reads nothing.
    fn scan(
        &self,
        space: Space<'_>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: Visit<'_>,
    ) -> Result<()>;

    /// The number of entries in `space`, if the engine knows it without reading them
    /// (`None`: count by a scan).
    fn len(&self, space: Space<'_>) -> Result<Option<u64>>;
}

/// The writer: reads plus changes, all kept or all discarded.
pub(crate) trait WriteTxn: ReadTxn {
    /// Stores `value` under `key`; `true` when it replaced a value.
    fn put(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<bool>;
    /// Removes `key`; `true` when it was there.
    fn remove(&mut self, space: Space<'_>, key: &[u8]) -> Result<bool>;
    /// Makes sure `space` exists (readers of later snapshots find it empty, not missing).
    fn create(&mut self, space: Space<'_>) -> Result<()>;
    /// Removes `space` with everything in it.
    fn drop_space(&mut self, space: Space<'_>) -> Result<()>;
    /// How durable the commit will be.
    fn set_durability(&mut self, durability: Durability) -> Result<()>;
    /// Makes every change permanent and visible to new snapshots.
    fn commit(self: Box<Self>) -> Result<()>;
    /// Discards every change.
    fn rollback(self: Box<Self>) -> Result<()>;
}
