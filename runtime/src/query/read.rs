//! The reads both transaction kinds share: by id, by unique key, many ids, one relation of
//! one row, and the macro that gives `ReadTx` and `WriteTx` the same read methods.

use std::ops::Bound;

use crate::catalog::{Catalog, TableInfo, decode_doc};
use crate::error::{Error, Result};
use crate::model::{Doc, Id, KeyArg, Table, UniqueIndex, Visibility};
use crate::query::filter::Env;
use crate::query::relation::{Cardinality, LoadCx, Relation};
use crate::query::rules::Viewing;
use crate::storage::{self, Source, TxRef};

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
    Ok(doc.filter(|d| vis.admits(d.deleted_at().is_some())))
}

/// Row `id` as a reader sees it: `vis` admits it and the read rule shows it.
pub(crate) fn read_visible<T: Table>(
    tx: TxRef<'_>,
    db: &Catalog,
    view: &Viewing,
    id: u64,
    vis: Visibility,
) -> Result<Option<Doc<T>>> {
    view.read_rule(T::NAME)?;
    let info = db.info::<T>()?;
    match read_doc::<T, _>(&tx, info, id, vis)? {
        Some(doc) if view.visible(&doc, &mut Env::new(tx, db, view))? => Ok(Some(doc)),
        _ => Ok(None),
    }
}

pub(crate) fn get_by<T: Table, K>(
    tx: TxRef<'_>,
    db: &Catalog,
    view: &Viewing,
    index: UniqueIndex<T, K>,
    key: impl KeyArg<K>,
) -> Result<Option<Doc<T>>> {
    view.read_rule(T::NAME)?;
    let s = &tx;
    let mut env = Env::new(tx, db, view);
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
        let id = storage::row_id_of_key(T::NAME, &key)?;
        after = Some(key);
        match read_doc::<T, _>(s, info, id, Visibility::All)? {
            // A row the read rule hides is as if it were not there: the next candidate.
            Some(doc) if doc.deleted_at().is_none() && view.visible(&doc, &mut env)? => {
                return Ok(Some(doc));
            }
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

/// The read methods of both transaction kinds (`ReadTx` and `WriteTx`, whose `store` is a
/// `ReadStore` or a `WriteStore`): one text, so the two cannot drift apart.
macro_rules! read_methods {
    ($kind:ident) => {
        /// The row with this id, if it exists and is not soft-deleted.
        pub fn get<T: Table>(&self, id: Id<T>) -> Result<Option<Doc<T>>> {
            $crate::query::read::read_visible(
                $crate::storage::TxRef::$kind(&self.store),
                &self.db,
                &self.view,
                id.get(),
                $crate::model::Visibility::Live,
            )
        }

        /// The row with this id, soft-deleted or not ([`Doc::deleted_at`] tells).
        pub fn get_including_deleted<T: Table>(&self, id: Id<T>) -> Result<Option<Doc<T>>> {
            $crate::query::read::read_visible(
                $crate::storage::TxRef::$kind(&self.store),
                &self.db,
                &self.view,
                id.get(),
                $crate::model::Visibility::All,
            )
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
            $crate::query::read::get_by(
                $crate::storage::TxRef::$kind(&self.store),
                &self.db,
                &self.view,
                index,
                key,
            )
        }

        /// Starts a query on table `T`; see [`Query`]. In a write transaction it sees the
        /// transaction's own writes.
        pub fn query<T: Table>(&self) -> Query<'_, T> {
            Query::new(
                $crate::storage::TxRef::$kind(&self.store),
                &self.db,
                &self.view,
            )
        }

        /// The rows with these ids, in the same order; `None` for an id with no (live) row.
        pub fn get_many<T: Table>(
            &self,
            ids: impl IntoIterator<Item = Id<T>>,
        ) -> Result<Vec<Option<Doc<T>>>> {
            $crate::query::read::get_many(
                $crate::storage::TxRef::$kind(&self.store),
                &self.db,
                &self.view,
                ids,
            )
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
            $crate::query::read::load(
                $crate::query::relation::LoadCx {
                    tx: $crate::storage::TxRef::$kind(&self.store),
                    db: &self.db,
                    view: &self.view,
                },
                doc,
                rel,
            )
        }

        /// Loads relation `rel` onto rows already read (for example by
        /// [`get_many`](Self::get_many)), batched like `with` on a query: one index probe per
        /// distinct key per level. Read it back with [`Doc::get`].
        pub fn load_into<P: Table>(
            &self,
            docs: &mut [Doc<P>],
            rel: impl $crate::query::relation::Load<P>,
        ) -> Result<()> {
            let mut cx = $crate::query::relation::LoadCx {
                tx: $crate::storage::TxRef::$kind(&self.store),
                db: &self.db,
                view: &self.view,
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

pub(crate) fn get_many<T: Table>(
    tx: TxRef<'_>,
    db: &Catalog,
    view: &Viewing,
    ids: impl IntoIterator<Item = Id<T>>,
) -> Result<Vec<Option<Doc<T>>>> {
    ids.into_iter()
        .map(|id| read_visible(tx, db, view, id.get(), Visibility::Live))
        .collect()
}

pub(crate) fn load<P: Table, C: Table + Clone, K: Cardinality>(
    mut cx: LoadCx<'_>,
    doc: &Doc<P>,
    rel: Relation<P, C, K>,
) -> Result<K::Stored<C>> {
    let rows = rel.fetch(&mut cx, &[doc], 1)?.pop().unwrap_or_default();
    Ok(K::from_rows(rows))
}
