//! Transactions, and the rows they return.

use std::fmt;
use std::ops::{Bound, Deref};
use std::sync::Arc;

use crate::column::KeyArg;
use crate::db::{DbInner, TableInfo};
use crate::error::{Error, Result};
use crate::id::Id;
use crate::query::Query;
use crate::relation::{Cardinality, LoadCx, Loaded, Relation};
use crate::schema::{FieldError, Table, UniqueIndex};
pub use crate::storage::TxStats;
use crate::storage::{self, ReadStore, RowHeader, Source, WriteStore};

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

    pub(crate) fn from_parts(id: Id<T>, header: RowHeader, value: T) -> Self {
        Doc {
            id,
            created_at: header.created_at,
            deleted_at: header.deleted.map(|(at, _)| at),
            value,
            loaded: Loaded::default(),
        }
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

pub use crate::write::WriteTx;

pub use crate::storage::Durability;

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
        deleted_at: header.deleted.map(|(at, _)| at),
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

/// Which rows a read sees, by their soft-deletion state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub(crate) enum Visibility {
    /// Rows not soft-deleted (the default for every read).
    #[default]
    Live,
    /// Every row.
    All,
    /// Soft-deleted rows only.
    Deleted,
}

impl Visibility {
    pub(crate) fn admits(self, deleted: bool) -> bool {
        match self {
            Visibility::Live => !deleted,
            Visibility::All => true,
            Visibility::Deleted => deleted,
        }
    }
}

/// Row `id` if it exists and `vis` admits it.
pub(crate) fn read_doc<T: Table, S: Source>(
    s: &S,
    info: &TableInfo,
    id: u64,
    vis: Visibility,
) -> Result<Option<Doc<T>>> {
    let doc = s.with_row(info.schema.name, id, |bytes| {
        decode_doc::<T>(info, id, bytes)
    })?;
    Ok(doc.filter(|d| vis.admits(d.deleted_at.is_some())))
}

pub(crate) fn get_by<T: Table, K, S: Source>(
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
    // Usually one candidate; soft-deleted rows (and, for a key with `None`, several rows)
    // may share the key. Read the candidates one at a time and stop at the first live one.
    let table = &info.index_tables[index.position()];
    let hi = storage::prefix_upper_bound(&prefix);
    let hi = hi.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut after: Option<Vec<u8>> = None;
    loop {
        let lo = after
            .as_deref()
            .map_or(Bound::Included(prefix.as_slice()), Bound::Excluded);
        let mut next: Option<Vec<u8>> = None;
        s.scan_index(table, lo, hi, false, &mut |k| {
            next = Some(k.to_vec());
            Ok(false)
        })?;
        let Some(key) = next else { return Ok(None) };
        let id = storage::id_of_index_key(&key)
            .ok_or_else(|| storage::corrupt(T::NAME, None, "index key shorter than an id"))?;
        after = Some(key);
        match read_doc::<T, S>(s, info, id, Visibility::All)? {
            Some(doc) if doc.deleted_at.is_none() => return Ok(Some(doc)),
            Some(_) => {}
            None => {
                return Err(storage::corrupt(
                    T::NAME,
                    Some(id),
                    format!(
                        "index `{}` points to a row that does not exist",
                        index.name()
                    ),
                ));
            }
        }
    }
}

/// A borrowed transaction of either kind, for code that only reads (queries).
#[derive(Clone, Copy)]
pub(crate) enum TxRef<'a> {
    Read(&'a ReadStore),
    Write(&'a WriteStore),
}

impl Source for TxRef<'_> {
    fn txn(&self) -> &dyn storage::engine::ReadTxn {
        match self {
            TxRef::Read(s) => s.txn(),
            TxRef::Write(s) => s.txn(),
        }
    }

    fn counters(&self) -> &storage::Counters {
        match self {
            TxRef::Read(s) => s.counters(),
            TxRef::Write(s) => s.counters(),
        }
    }
}

/// The read methods of both transaction kinds (`ReadTx` and `WriteTx`, whose `store` is a
/// `ReadStore` or a `WriteStore`): one text, so the two cannot drift apart.
macro_rules! read_methods {
    ($kind:ident) => {
        /// The row with this id, if it exists and is not soft-deleted.
        pub fn get<T: Table>(&self, id: Id<T>) -> Result<Option<Doc<T>>> {
            let info = self.db.info::<T>()?;
            $crate::tx::read_doc(&self.store, info, id.get(), $crate::tx::Visibility::Live)
        }

        /// The row with this id, soft-deleted or not ([`Doc::deleted_at`] tells).
        pub fn get_including_deleted<T: Table>(&self, id: Id<T>) -> Result<Option<Doc<T>>> {
            let info = self.db.info::<T>()?;
            $crate::tx::read_doc(&self.store, info, id.get(), $crate::tx::Visibility::All)
        }

        /// The row whose unique index key equals `key` (a value for a one-column index, a
        /// tuple for a compound one).
        ///
        /// If the key contains `None` and the index does not say `nulls_not_distinct`, several
        /// rows may hold it; the one with the smallest id is returned.
        pub fn get_by<T: Table, K>(
            &self,
            index: UniqueIndex<T, K>,
            key: impl KeyArg<K>,
        ) -> Result<Option<Doc<T>>> {
            $crate::tx::get_by(&self.db, &self.store, index, key)
        }

        /// Starts a query on table `T`; see [`Query`]. In a write transaction it sees the
        /// transaction's own writes.
        pub fn query<T: Table>(&self) -> Query<'_, T> {
            Query::new($crate::tx::TxRef::$kind(&self.store), &self.db)
        }

        /// The rows with these ids, in the same order; `None` for an id with no (live) row.
        pub fn get_many<T: Table>(
            &self,
            ids: impl IntoIterator<Item = Id<T>>,
        ) -> Result<Vec<Option<Doc<T>>>> {
            $crate::tx::get_many(&self.db, &self.store, ids)
        }

        /// Loads one relation of one row (lazy loading): `Vec<Doc<C>>` for a `many` relation,
        /// `Option<Doc<C>>` for a `one` relation. The relation's per-parent filter, order,
        /// limit and nested `with` apply.
        ///
        /// A required `belongs_to` whose target is missing is
        /// [`Error::DanglingReference`](crate::Error::DanglingReference).
        pub fn load<P: Table, C: Table + Clone, K: Cardinality>(
            &self,
            doc: &Doc<P>,
            rel: Relation<P, C, K>,
        ) -> Result<K::Stored<C>> {
            $crate::tx::load($crate::tx::TxRef::$kind(&self.store), &self.db, doc, rel)
        }

        /// Loads relation `rel` onto rows already read (for example by
        /// [`get_many`](Self::get_many)), batched like `with` on a query: one index probe per
        /// distinct key per level. Read it back with [`Doc::get`].
        pub fn load_into<P: Table>(
            &self,
            docs: &mut [Doc<P>],
            rel: impl $crate::relation::Load<P>,
        ) -> Result<()> {
            let mut cx = $crate::relation::LoadCx {
                tx: $crate::tx::TxRef::$kind(&self.store),
                db: &self.db,
            };
            rel.load_into(&mut cx, docs, 1)
        }

        /// Storage operations this transaction has made so far (for tests and tuning:
        /// relation loading reads one index probe per distinct key per level).
        pub fn stats(&self) -> TxStats {
            self.store.stats()
        }
    };
}
pub(crate) use read_methods;

/// A read transaction: a consistent snapshot. Begin one with [`Db::read`](crate::Db::read).
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// struct Note { text: String }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder().table::<Note>().in_memory()?;
/// let id = db.write(|tx| tx.insert(Note { text: "v1".into() }))?;
/// let snapshot = db.read()?;
/// db.write(|tx| tx.patch(id, |n| n.text = "v2".into()))?;
/// assert_eq!(snapshot.get(id)?.unwrap().text, "v1"); // unaffected by the later write
/// assert_eq!(db.read()?.get(id)?.unwrap().text, "v2");
/// # Ok(()) }
/// ```
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
    pub(crate) fn new(db: Arc<DbInner>, store: ReadStore) -> Self {
        ReadTx { db, store }
    }

    read_methods!(Read);
}

pub(crate) fn get_many<T: Table, S: Source>(
    db: &DbInner,
    s: &S,
    ids: impl IntoIterator<Item = Id<T>>,
) -> Result<Vec<Option<Doc<T>>>> {
    let info = db.info::<T>()?;
    ids.into_iter()
        .map(|id| read_doc(s, info, id.get(), Visibility::Live))
        .collect()
}

pub(crate) fn load<P: Table, C: Table + Clone, K: Cardinality>(
    tx: TxRef<'_>,
    db: &DbInner,
    doc: &Doc<P>,
    rel: Relation<P, C, K>,
) -> Result<K::Stored<C>> {
    let mut cx = LoadCx { tx, db };
    let rows = rel.fetch(&mut cx, &[doc], 1)?.pop().unwrap_or_default();
    Ok(K::from_rows(rows))
}
