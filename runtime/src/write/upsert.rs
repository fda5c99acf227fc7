//! Writes keyed by a unique index: `upsert`, `insert_or_ignore` and `get_or_insert`.
//!
//! The key is always the one the value itself holds in the index, so an upsert cannot be
//! called with a key that differs from its value. Which row holds the key follows the index's
//! unique rule: a live row does; a soft-deleted row does too unless the index releases
//! soft-deleted values ([`DbBuilder::release_on_soft_delete`](crate::DbBuilder::release_on_soft_delete)).
//! A soft-deleted holder is never revived behind the caller's back: an index that keeps
//! soft-deleted values refuses the write with [`Error::Unique`] naming that row (undelete it,
//! or hard-delete it, first); an index that releases them inserts a new row beside it.

use super::tx::WriteTx;
use crate::catalog::{index_keys, key_debug};
use crate::error::{Error, Result};
use crate::model::{Id, Table, UniqueIndex};
use crate::storage;

/// What an [`upsert`](WriteTx::upsert) or [`get_or_insert`](WriteTx::get_or_insert) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Upserted {
    /// No live row held the key: the value was inserted.
    Inserted,
    /// A live row held the key and was updated.
    Updated,
    /// A live row held the key and was left as it was.
    Existed,
}

impl WriteTx {
    /// Inserts `value`, or — when a live row already holds `value`'s key in the unique index
    /// `index` — applies `update` to that row instead (it may change any column, other unique
    /// ones included: checked as any update). Returns the row's id and which it was.
    ///
    /// A compound unique index works the same. A key held only by a soft-deleted row is never
    /// revived behind your back: the write is refused with [`Error::Unique`] naming that row
    /// (undelete it, or hard-delete it, first) — unless the index releases soft-deleted values
    /// ([`DbBuilder::release_on_soft_delete`](crate::DbBuilder::release_on_soft_delete)), in
    /// which case the value is inserted as a new row.
    ///
    /// ```
    /// use redorm::prelude::*;
    /// use redorm::Upserted;
    ///
    /// #[derive(Table, Debug)]
    /// struct Visitor { #[unique] email: String, visits: u32 }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Visitor>().in_memory()?;
    /// let visit = |email: &str| {
    ///     db.write(|tx| {
    ///         let new = Visitor { email: email.into(), visits: 1 };
    ///         tx.upsert(Visitor::by_email(), new, |v| v.visits += 1)
    ///     })
    /// };
    /// let (id, how) = visit("ann@x")?;
    /// assert_eq!(how, Upserted::Inserted);
    /// assert_eq!(visit("ann@x")?, (id, Upserted::Updated));
    /// assert_eq!(db.read()?.get(id)?.unwrap().visits, 2);
    /// # Ok(()) }
    /// ```
    pub fn upsert<T: Table, K>(
        &mut self,
        index: UniqueIndex<T, K>,
        value: T,
        update: impl FnOnce(&mut T),
    ) -> Result<(Id<T>, Upserted)> {
        let _span = crate::trace::write(&self.store.span, "upsert", T::NAME);
        match self.holder(&index, &value)? {
            Some(id) => {
                self.patch(id, update)?;
                Ok((id, Upserted::Updated))
            }
            None => Ok((self.insert(value)?, Upserted::Inserted)),
        }
    }

    /// Inserts `value` unless a live row already holds its key in the unique index `index`
    /// (kitcn's `onConflictDoNothing`): the new id, or `None` when nothing was written.
    /// Other unique indexes and foreign keys are checked as by [`insert`](WriteTx::insert).
    pub fn insert_or_ignore<T: Table, K>(
        &mut self,
        index: UniqueIndex<T, K>,
        value: T,
    ) -> Result<Option<Id<T>>> {
        let _span = crate::trace::write(&self.store.span, "insert_or_ignore", T::NAME);
        match self.holder(&index, &value)? {
            Some(_) => Ok(None),
            None => self.insert(value).map(Some),
        }
    }

    /// The id of the live row holding `value`'s key in the unique index `index`, inserting
    /// `value` first if there is none.
    pub fn get_or_insert<T: Table, K>(
        &mut self,
        index: UniqueIndex<T, K>,
        value: T,
    ) -> Result<(Id<T>, Upserted)> {
        let _span = crate::trace::write(&self.store.span, "get_or_insert", T::NAME);
        match self.holder(&index, &value)? {
            Some(id) => Ok((id, Upserted::Existed)),
            None => Ok((self.insert(value)?, Upserted::Inserted)),
        }
    }

    /// The live row holding `value`'s key in `index`; an error for a key a soft-deleted row
    /// keeps (see the module docs).
    fn holder<T: Table, K>(&self, index: &UniqueIndex<T, K>, value: &T) -> Result<Option<Id<T>>> {
        let info = self.db.info::<T>()?;
        let pos = index.position();
        let keys = index_keys(info, value)?;
        let Some(key) = keys.get(pos) else {
            return Err(Error::Schema {
                table: T::NAME.to_string(),
                message: format!("index `{}` is not one of this table's", index.name()),
            });
        };
        if !key.checked {
            // A key with `None` in an index where `None`s are distinct: nobody holds it.
            return Ok(None);
        }
        for id in storage::probe(&self.store, &info.index_tables[pos], &key.prefix)? {
            let header = storage::row_header(&self.store, T::NAME, id)?;
            match header.map(|h| h.deleted.is_some()) {
                Some(false) => return Ok(Some(Id::from_raw(id))),
                Some(true) if info.released[pos] => continue,
                Some(true) => {
                    return Err(Error::Unique {
                        table: T::NAME,
                        index: index.name(),
                        value: format!(
                            "{} (held by a soft-deleted row: undelete it to update it, or hard-delete it first)",
                            key_debug(info, pos, value)
                        ),
                        existing: id,
                    });
                }
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
        Ok(None)
    }
}
