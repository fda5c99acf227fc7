//! Transactions, and the rows they return.

use std::collections::HashMap;
use std::fmt;
use std::ops::{Bound, Deref};
use std::sync::Arc;

use redb::ReadableTable;

use crate::column::KeyArg;
use crate::db::{DbInner, TableInfo};
use crate::error::{Error, Result};
use crate::id::Id;
use crate::query::Query;
use crate::relation::{Cardinality, LoadCx, Loaded, Relation};
use crate::schema::{FieldError, Table, UniqueIndex};
pub use crate::storage::TxStats;
use crate::storage::{self, ReadStore, RowHeader, SEQ, Sink, Source, WriteStore};

/// A row as read from the database: the system fields plus the struct, which it derefs to.
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// struct Note { text: String }
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder().table::<Note>().in_memory()?;
/// let id = db.write(|tx| tx.insert(Note { text: "hi".into() }))?;
/// let note: Doc<Note> = db.read()?.get(id)?.unwrap();
/// assert_eq!(note.id, id);          // system field
/// assert_eq!(note.text, "hi");      // struct field, through Deref
/// let plain: Note = note.into_inner();
/// # let _ = plain;
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq)]
pub struct Doc<T> {
    /// The row's id.
    pub id: Id<T>,
    /// When the row was inserted, in milliseconds since the Unix epoch (from the database's
    /// [`Clock`](crate::Clock)).
    pub created_at: i64,
    deleted_at: Option<i64>,
    value: T,
    pub(crate) loaded: Loaded,
}

impl<T> Doc<T> {
    /// When the row was soft-deleted, if it was.
    pub fn deleted_at(&self) -> Option<i64> {
        self.deleted_at
    }

    /// The struct, without the system fields.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// A reference to the struct.
    pub fn value(&self) -> &T {
        &self.value
    }

    pub(crate) fn loaded_mut(&mut self) -> &mut Loaded {
        &mut self.loaded
    }
}

impl<T> Deref for Doc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Doc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Doc");
        s.field("id", &self.id)
            .field("created_at", &self.created_at);
        if let Some(at) = self.deleted_at {
            s.field("deleted_at", &at);
        }
        s.field("value", &self.value);
        if !self.loaded.is_empty() {
            s.field("loaded", &self.loaded.names());
        }
        s.finish()
    }
}

/// How durable a write transaction's commit is (redb's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The commit is on disk when `commit` returns (the default).
    #[default]
    Immediate,
    /// The commit is visible to readers at once but reaches the disk only with the next
    /// `Immediate` commit: for bulk loads, where a crash may lose the tail.
    None,
}

// ---- reading -----------------------------------------------------------------------------

pub(crate) fn decode_doc<T: Table>(info: &TableInfo, id: u64, bytes: &[u8]) -> Result<Doc<T>> {
    let table = info.schema.name;
    let mut input = bytes;
    let header =
        RowHeader::read(&mut input).map_err(|e| storage::corrupt(table, Some(id), e.detail))?;
    let layout = if header.version == info.version {
        None
    } else {
        match info.layouts.get(&header.version) {
            Some(layout) => Some(layout.as_slice()),
            None => {
                return Err(storage::corrupt(
                    table,
                    Some(id),
                    format!("row written with unknown schema version {}", header.version),
                ));
            }
        }
    };
    let value = T::decode_row(layout, &mut input).map_err(|e| field_corrupt(info, id, e))?;
    if !input.is_empty() {
        return Err(storage::corrupt(
            table,
            Some(id),
            format!("{} unexpected bytes after the last column", input.len()),
        ));
    }
    Ok(Doc {
        id: Id::from_raw(id),
        created_at: header.created_at,
        deleted_at: header.deleted_at,
        value,
        loaded: Loaded::default(),
    })
}

fn field_corrupt(info: &TableInfo, id: u64, e: FieldError) -> Error {
    Error::Corrupt {
        table: info.schema.name.to_string(),
        id: Some(id),
        column: info.schema.columns.get(e.column).map(|c| c.name),
        detail: e.error.detail,
    }
}

fn read_doc<T: Table, S: Source>(s: &S, info: &TableInfo, id: u64) -> Result<Option<Doc<T>>> {
    s.with_row(info.schema.name, id, |bytes| {
        decode_doc::<T>(info, id, bytes)
    })
}

/// The first row id under `prefix` in index `pos`, other than `except`.
fn first_in_prefix<S: Source>(
    s: &S,
    info: &TableInfo,
    pos: usize,
    prefix: &[u8],
    except: Option<u64>,
) -> Result<Option<u64>> {
    let hi = storage::prefix_upper_bound(prefix);
    let hi = match &hi {
        Some(h) => Bound::Excluded(h.as_slice()),
        None => Bound::Unbounded,
    };
    let mut found = None;
    let table = info.schema.name;
    s.scan_index(
        &info.index_tables[pos],
        Bound::Included(prefix),
        hi,
        false,
        &mut |key| {
            let id = storage::id_of_index_key(key)
                .ok_or_else(|| storage::corrupt(table, None, "index key shorter than an id"))?;
            if Some(id) == except {
                Ok(true)
            } else {
                found = Some(id);
                Ok(false)
            }
        },
    )?;
    Ok(found)
}

fn get_by<T: Table, K, S: Source>(
    db: &DbInner,
    s: &S,
    index: UniqueIndex<T, K>,
    key: impl KeyArg<K>,
) -> Result<Option<Doc<T>>> {
    let info = db.info::<T>()?;
    let mut prefix = Vec::new();
    key.encode_key_arg(&mut prefix).map_err(|e| Error::Encode {
        table: T::NAME,
        column: index.name(),
        detail: e.detail,
    })?;
    let Some(id) = first_in_prefix(s, info, index.position(), &prefix, None)? else {
        return Ok(None);
    };
    match read_doc::<T, S>(s, info, id)? {
        Some(doc) => Ok(Some(doc)),
        None => Err(storage::corrupt(
            T::NAME,
            Some(id),
            format!(
                "index `{}` points to a row that does not exist",
                index.name()
            ),
        )),
    }
}

/// A borrowed transaction of either kind, for code that only reads (queries).
#[derive(Clone, Copy)]
pub(crate) enum TxRef<'a> {
    Read(&'a ReadStore),
    Write(&'a WriteStore),
}

impl TxRef<'_> {
    pub(crate) fn row_count(&self, table: &str) -> Result<u64> {
        match self {
            TxRef::Read(s) => s.row_count(table),
            TxRef::Write(s) => s.row_count(table),
        }
    }
}

impl Source for TxRef<'_> {
    fn with_row<R>(
        &self,
        table: &str,
        id: u64,
        f: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<R>> {
        match self {
            TxRef::Read(s) => s.with_row(table, id, f),
            TxRef::Write(s) => s.with_row(table, id, f),
        }
    }

    fn scan_index(
        &self,
        index: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        match self {
            TxRef::Read(s) => s.scan_index(index, lo, hi, reverse, f),
            TxRef::Write(s) => s.scan_index(index, lo, hi, reverse, f),
        }
    }

    fn scan_rows(
        &self,
        table: &str,
        lo: Bound<u64>,
        hi: Bound<u64>,
        reverse: bool,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        match self {
            TxRef::Read(s) => s.scan_rows(table, lo, hi, reverse, f),
            TxRef::Write(s) => s.scan_rows(table, lo, hi, reverse, f),
        }
    }

    fn row_count(&self, table: &str) -> Result<u64> {
        TxRef::row_count(self, table)
    }
}

/// A read transaction: a consistent snapshot. Begin one with [`Db::read`](crate::Db::read).
pub struct ReadTx {
    db: Arc<DbInner>,
    store: ReadStore,
}

impl fmt::Debug for ReadTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadTx").finish_non_exhaustive()
    }
}

impl ReadTx {
    pub(crate) fn new(db: Arc<DbInner>, txn: redb::ReadTransaction) -> Self {
        ReadTx {
            db,
            store: ReadStore::new(txn),
        }
    }

    /// The row with this id, if it exists.
    pub fn get<T: Table>(&self, id: Id<T>) -> Result<Option<Doc<T>>> {
        read_doc(&self.store, self.db.info::<T>()?, id.get())
    }

    /// The row whose unique index key equals `key` (a value for a one-column index, a tuple
    /// for a compound one).
    ///
    /// If the key contains `None` and the index does not say `nulls_not_distinct`, several
    /// rows may hold it; the one with the smallest id is returned.
    pub fn get_by<T: Table, K>(
        &self,
        index: UniqueIndex<T, K>,
        key: impl KeyArg<K>,
    ) -> Result<Option<Doc<T>>> {
        get_by(&self.db, &self.store, index, key)
    }

    /// Starts a query on table `T`; see [`Query`].
    pub fn query<T: Table>(&self) -> Query<'_, T> {
        Query::new(TxRef::Read(&self.store), &self.db)
    }

    /// The rows with these ids, in the same order; `None` for an id with no row.
    pub fn get_many<T: Table>(
        &self,
        ids: impl IntoIterator<Item = Id<T>>,
    ) -> Result<Vec<Option<Doc<T>>>> {
        get_many(&self.db, &self.store, ids)
    }

    /// Loads one relation of one row (lazy loading): `Vec<Doc<C>>` for a `many` relation,
    /// `Option<Doc<C>>` for a `one` relation. The relation's per-parent filter, order, limit
    /// and nested `with` apply.
    ///
    /// A required `belongs_to` whose target is missing is [`Error::DanglingReference`].
    pub fn load<P: Table, C: Table + Clone, K: Cardinality>(
        &self,
        doc: &Doc<P>,
        rel: Relation<P, C, K>,
    ) -> Result<K::Stored<C>> {
        load(TxRef::Read(&self.store), &self.db, doc, rel)
    }

    /// Storage operations this transaction has made so far (for tests and tuning: relation
    /// loading reads one index probe per distinct key per level).
    pub fn stats(&self) -> TxStats {
        self.store.stats()
    }
}

fn get_many<T: Table, S: Source>(
    db: &DbInner,
    s: &S,
    ids: impl IntoIterator<Item = Id<T>>,
) -> Result<Vec<Option<Doc<T>>>> {
    let info = db.info::<T>()?;
    ids.into_iter()
        .map(|id| read_doc(s, info, id.get()))
        .collect()
}

fn load<P: Table, C: Table + Clone, K: Cardinality>(
    tx: TxRef<'_>,
    db: &DbInner,
    doc: &Doc<P>,
    rel: Relation<P, C, K>,
) -> Result<K::Stored<C>> {
    let mut cx = LoadCx { tx, db };
    let rows = rel.fetch(&mut cx, &[doc], 1)?.pop().unwrap_or_default();
    Ok(K::from_rows(rows))
}

// ---- writing -----------------------------------------------------------------------------

/// The key (without the id suffix) a row has in one index, and whether it takes part in the
/// uniqueness check.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexKey {
    prefix: Vec<u8>,
    checked: bool,
}

fn index_keys<T: Table>(info: &TableInfo, value: &T) -> Result<Vec<IndexKey>> {
    let mut keys = Vec::with_capacity(info.schema.indexes.len());
    for index in &info.schema.indexes {
        let mut prefix = Vec::new();
        let mut has_null = false;
        for &col in &index.columns {
            value
                .encode_column_key(col, &mut prefix)
                .map_err(|e| Error::Encode {
                    table: T::NAME,
                    column: info.schema.columns[col].name,
                    detail: e.detail,
                })?;
            has_null |= value.column_is_null(col);
        }
        keys.push(IndexKey {
            prefix,
            checked: index.unique && (index.nulls_not_distinct || !has_null),
        });
    }
    Ok(keys)
}

fn fk_values<T: Table>(info: &TableInfo, value: &T) -> Vec<Option<u64>> {
    info.schema
        .foreign_keys
        .iter()
        .map(|fk| value.column_id(fk.column))
        .collect()
}

fn full_key(prefix: &[u8], id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + storage::ID_LEN);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

fn key_debug<T: Table>(info: &TableInfo, pos: usize, value: &T) -> String {
    let cols = &info.schema.indexes[pos].columns;
    if let [single] = cols.as_slice() {
        value.column_debug(*single)
    } else {
        let parts: Vec<String> = cols.iter().map(|&c| value.column_debug(c)).collect();
        format!("({})", parts.join(", "))
    }
}

fn encode_row<T: Table>(info: &TableInfo, header: &RowHeader, value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    header.write(&mut out);
    value.encode_row(&mut out).map_err(|e| Error::Encode {
        table: T::NAME,
        column: info.schema.columns.get(e.column).map_or("?", |c| c.name),
        detail: e.error.detail,
    })?;
    Ok(out)
}

/// A write transaction. Get one from [`Db::write`](crate::Db::write) (commits when the closure
/// returns `Ok`) or [`Db::begin_write`](crate::Db::begin_write) (commit with
/// [`commit`](WriteTx::commit); dropped means rolled back).
///
/// Every write keeps every index exact and checks unique indexes before it changes anything:
/// a write that fails with an error leaves the transaction as it was before the call.
pub struct WriteTx {
    db: Arc<DbInner>,
    store: WriteStore,
    /// Next id per table slot, loaded on first insert and written back at commit.
    next_ids: HashMap<usize, u64>,
}

impl fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTx").finish_non_exhaustive()
    }
}

impl WriteTx {
    pub(crate) fn new(db: Arc<DbInner>, txn: redb::WriteTransaction) -> Self {
        WriteTx {
            db,
            store: WriteStore::new(txn),
            next_ids: HashMap::new(),
        }
    }

    /// Sets how durable the commit is; the default is [`Durability::Immediate`].
    pub fn set_durability(&mut self, durability: Durability) -> Result<()> {
        let d = match durability {
            Durability::Immediate => redb::Durability::Immediate,
            Durability::None => redb::Durability::None,
        };
        self.store.txn.set_durability(d)?;
        Ok(())
    }

    /// Makes every write of the transaction permanent.
    pub fn commit(self) -> Result<()> {
        if !self.next_ids.is_empty() {
            let mut seq = self.store.txn.open_table(SEQ)?;
            for (&slot, &next) in &self.next_ids {
                seq.insert(self.db.tables[slot].schema.name, next - 1)?;
            }
        }
        self.store.txn.commit()?;
        Ok(())
    }

    /// Discards every write of the transaction (what dropping it does too).
    pub fn abort(self) -> Result<()> {
        self.store.txn.abort()?;
        Ok(())
    }

    /// The row with this id, as this transaction sees it.
    pub fn get<T: Table>(&self, id: Id<T>) -> Result<Option<Doc<T>>> {
        read_doc(&self.store, self.db.info::<T>()?, id.get())
    }

    /// The row whose unique index key equals `key`; see [`ReadTx::get_by`].
    pub fn get_by<T: Table, K>(
        &self,
        index: UniqueIndex<T, K>,
        key: impl KeyArg<K>,
    ) -> Result<Option<Doc<T>>> {
        get_by(&self.db, &self.store, index, key)
    }

    /// Starts a query on table `T` that sees this transaction's writes; see [`Query`].
    pub fn query<T: Table>(&self) -> Query<'_, T> {
        Query::new(TxRef::Write(&self.store), &self.db)
    }

    /// The rows with these ids, in the same order; see [`ReadTx::get_many`].
    pub fn get_many<T: Table>(
        &self,
        ids: impl IntoIterator<Item = Id<T>>,
    ) -> Result<Vec<Option<Doc<T>>>> {
        get_many(&self.db, &self.store, ids)
    }

    /// Loads one relation of one row; see [`ReadTx::load`].
    pub fn load<P: Table, C: Table + Clone, K: Cardinality>(
        &self,
        doc: &Doc<P>,
        rel: Relation<P, C, K>,
    ) -> Result<K::Stored<C>> {
        load(TxRef::Write(&self.store), &self.db, doc, rel)
    }

    /// Storage operations this transaction has made so far.
    pub fn stats(&self) -> TxStats {
        self.store.stats()
    }

    fn next_id(&mut self, slot: usize) -> Result<u64> {
        let next = match self.next_ids.get(&slot) {
            Some(&n) => n,
            None => {
                let seq = self.store.txn.open_table(SEQ)?;
                let last = seq
                    .get(self.db.tables[slot].schema.name)?
                    .map_or(0, |g| g.value());
                last + 1
            }
        };
        self.next_ids.insert(slot, next + 1);
        Ok(next)
    }

    /// Every foreign key of `value` that differs from `old` must point at a live row.
    fn check_foreign_keys<T: Table>(
        &self,
        info: &TableInfo,
        value: &T,
        old: Option<&[Option<u64>]>,
    ) -> Result<()> {
        for (i, fk) in info.schema.foreign_keys.iter().enumerate() {
            let Some(target_id) = value.column_id(fk.column) else {
                continue;
            };
            if old.is_some_and(|o| o.get(i).copied().flatten() == Some(target_id)) {
                continue;
            }
            let live = self.store.with_row(fk.target, target_id, |bytes| {
                let mut input = bytes;
                let header = RowHeader::read(&mut input)
                    .map_err(|e| storage::corrupt(fk.target, Some(target_id), e.detail))?;
                Ok(header.deleted_at.is_none())
            })?;
            if live != Some(true) {
                return Err(Error::ForeignKey {
                    table: T::NAME,
                    column: info.schema.columns[fk.column].name,
                    target: fk.target,
                    target_id,
                });
            }
        }
        Ok(())
    }

    fn check_unique<T: Table>(
        &self,
        info: &TableInfo,
        keys: &[IndexKey],
        old: Option<&[IndexKey]>,
        value: &T,
        id: Option<u64>,
    ) -> Result<()> {
        for (pos, key) in keys.iter().enumerate() {
            if !key.checked || old.is_some_and(|old| old[pos] == *key) {
                continue;
            }
            if let Some(existing) = first_in_prefix(&self.store, info, pos, &key.prefix, id)? {
                return Err(Error::Unique {
                    table: T::NAME,
                    index: info.schema.indexes[pos].name,
                    value: key_debug(info, pos, value),
                    existing,
                });
            }
        }
        Ok(())
    }

    /// Inserts a row and returns its new id.
    ///
    /// Fails with [`Error::Unique`] if a unique index already holds one of its keys; nothing
    /// is written then.
    pub fn insert<T: Table>(&mut self, value: T) -> Result<Id<T>> {
        let db = self.db.clone();
        let slot = db.slot::<T>()?;
        let info = &db.tables[slot];
        let header = RowHeader {
            version: info.version,
            created_at: db.clock.now_ms(),
            deleted_at: None,
        };
        let row = encode_row(info, &header, &value)?;
        let keys = index_keys(info, &value)?;
        self.check_unique(info, &keys, None, &value, None)?;
        self.check_foreign_keys(info, &value, None)?;
        let id = self.next_id(slot)?;
        self.store.put_row(T::NAME, id, &row)?;
        for (pos, key) in keys.iter().enumerate() {
            self.store
                .put_index(&info.index_tables[pos], &full_key(&key.prefix, id))?;
        }
        Ok(Id::from_raw(id))
    }

    fn load_row<T: Table>(&self, info: &TableInfo, id: u64) -> Result<(RowHeader, T)> {
        let found = self.store.with_row(T::NAME, id, |bytes| {
            let mut input = bytes;
            let header = RowHeader::read(&mut input)
                .map_err(|e| storage::corrupt(T::NAME, Some(id), e.detail))?;
            let doc = decode_doc::<T>(info, id, bytes)?;
            Ok((header, doc.value))
        })?;
        found.ok_or(Error::NotFound { table: T::NAME, id })
    }

    /// Writes `value` over row `id`, whose current header and index keys are given.
    fn rewrite<T: Table>(
        &mut self,
        info: &TableInfo,
        id: u64,
        mut header: RowHeader,
        old_keys: &[IndexKey],
        old_fks: &[Option<u64>],
        value: &T,
    ) -> Result<()> {
        let keys = index_keys(info, value)?;
        self.check_unique(info, &keys, Some(old_keys), value, Some(id))?;
        self.check_foreign_keys(info, value, Some(old_fks))?;
        header.version = info.version;
        let row = encode_row(info, &header, value)?;
        self.store.put_row(T::NAME, id, &row)?;
        for (pos, (old, new)) in old_keys.iter().zip(&keys).enumerate() {
            if old.prefix != new.prefix {
                let table = &info.index_tables[pos];
                self.store.remove_index(table, &full_key(&old.prefix, id))?;
                self.store.put_index(table, &full_key(&new.prefix, id))?;
            }
        }
        Ok(())
    }

    /// Reads row `id`, lets `f` change it, and writes it back (read-modify-write).
    ///
    /// Fails with [`Error::NotFound`] if there is no such row and [`Error::Unique`] if the
    /// change collides in a unique index; the row is unchanged then.
    pub fn patch<T: Table>(&mut self, id: Id<T>, f: impl FnOnce(&mut T)) -> Result<()> {
        let db = self.db.clone();
        let info = db.info::<T>()?;
        let (header, mut value) = self.load_row::<T>(info, id.get())?;
        let old_keys = index_keys(info, &value)?;
        let old_fks = fk_values(info, &value);
        f(&mut value);
        self.rewrite(info, id.get(), header, &old_keys, &old_fks, &value)
    }

    /// Replaces row `id` with `value` (its id and `created_at` stay).
    ///
    /// Fails like [`patch`](WriteTx::patch).
    pub fn replace<T: Table>(&mut self, id: Id<T>, value: T) -> Result<()> {
        let db = self.db.clone();
        let info = db.info::<T>()?;
        let (header, old) = self.load_row::<T>(info, id.get())?;
        let old_keys = index_keys(info, &old)?;
        let old_fks = fk_values(info, &old);
        self.rewrite(info, id.get(), header, &old_keys, &old_fks, &value)
    }

    /// Deletes row `id` and its index entries.
    ///
    /// Fails with [`Error::NotFound`] if there is no such row.
    pub fn delete<T: Table>(&mut self, id: Id<T>) -> Result<()> {
        let db = self.db.clone();
        let info = db.info::<T>()?;
        let (_, value) = self.load_row::<T>(info, id.get())?;
        let keys = index_keys(info, &value)?;
        for (pos, key) in keys.iter().enumerate() {
            self.store
                .remove_index(&info.index_tables[pos], &full_key(&key.prefix, id.get()))?;
        }
        self.store.remove_row(T::NAME, id.get())?;
        Ok(())
    }
}

/// Builds index `pos` of table `T` from the rows already stored (used when opening a database
/// whose struct declares an index the file does not have yet).
pub(crate) fn build_index<T: Table>(
    store: &mut WriteStore,
    info: &TableInfo,
    pos: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let index = &info.schema.indexes[pos];
    let table_name = &info.index_tables[pos];
    // Start from an empty table: an index whose definition changed is rebuilt in full.
    store.txn.delete_table(storage::index_def(table_name))?;
    store.txn.open_table(storage::index_def(table_name))?;
    let mut rows: Vec<(u64, IndexKey, String)> = Vec::new();
    store.scan_rows(
        T::NAME,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        &mut |id, bytes| {
            let doc = decode_doc::<T>(info, id, bytes)?;
            let keys = index_keys(info, &doc.value)?;
            let debug = key_debug(info, pos, &doc.value);
            let Some(key) = keys.into_iter().nth(pos) else {
                return Err(storage::corrupt(
                    T::NAME,
                    Some(id),
                    "index position out of range",
                ));
            };
            rows.push((id, key, debug));
            Ok(true)
        },
    )?;
    let mut done = 0u64;
    for (id, key, debug) in rows {
        if key.checked
            && let Some(existing) = first_in_prefix(store, info, pos, &key.prefix, Some(id))?
        {
            return Err(Error::Unique {
                table: T::NAME,
                index: index.name,
                value: debug,
                existing,
            });
        }
        store.put_index(table_name, &full_key(&key.prefix, id))?;
        done += 1;
        if done.is_multiple_of(1024) {
            progress(done);
        }
    }
    progress(done);
    Ok(())
}
