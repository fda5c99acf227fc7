//! Inserting rows: unique and foreign-key checks first, then the row and its index entries.

use super::notify::ChangeKind;
use super::tx::WriteTx;
use crate::catalog::{
    IndexKey, TableInfo, encode_row, full_key, index_keys, key_debug, unique_conflict,
};
use crate::codec::row::RowHeader;
use crate::error::{Error, Result};
use crate::model::{Doc, Id, Table};
use crate::storage::{self, Sink};

impl WriteTx {
    /// Every foreign key of `value` that differs from `old` must point at a live row.
    pub(crate) fn check_foreign_keys<T: Table>(
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
            let live = storage::row_header(&self.store, fk.target, target_id)?
                .is_some_and(|h| h.deleted.is_none());
            if !live {
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

    pub(crate) fn check_unique<T: Table>(
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
            if let Some(existing) = unique_conflict(&self.store, info, pos, &key.prefix, id)? {
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
    /// Fails with [`Error::Unique`] if a unique index already holds one of its keys and with
    /// [`Error::ForeignKey`] if a foreign key points at no live row; nothing is written then
    /// (nor anything a hook wrote for it).
    pub fn insert<T: Table>(&mut self, value: T) -> Result<Id<T>> {
        let _span = crate::trace::write(&self.store.span, "insert", T::NAME);
        if self.may_fail_late() {
            self.atomic(|tx| tx.insert_row::<T>(value))
        } else {
            self.insert_row::<T>(value)
        }
    }

    fn insert_row<T: Table>(&mut self, mut value: T) -> Result<Id<T>> {
        let db = self.db.clone();
        let slot = db.slot::<T>()?;
        let info = &db.tables[slot];
        let hooks = self.hooks::<T>();
        if let Some(h) = &hooks {
            for hook in &h.before_insert {
                self.nested(|tx| hook(tx, &mut value))?;
            }
        }
        // The row as it will be written (after the hooks' changes) is what the rule sees.
        self.guard_insert(&value)?;
        let header = RowHeader {
            version: info.version,
            created_at: self.stamp(slot)?,
            deleted: None,
        };
        let row = encode_row(info, &header, &value)?;
        let keys = index_keys(info, &value)?;
        self.check_unique(info, &keys, None, &value, None)?;
        self.check_foreign_keys(info, &value, None)?;
        let id = self.next_id(slot)?;
        self.store.insert_row(T::NAME, id, &row)?;
        for (pos, key) in keys.iter().enumerate() {
            self.store
                .put_index(&info.index_tables[pos], &full_key(&key.prefix, id))?;
        }
        self.record(slot, id, ChangeKind::Inserted);
        if let Some(h) = &hooks
            && !h.after_insert.is_empty()
        {
            let doc = Doc::from_parts(Id::from_raw(id), header, value);
            for hook in &h.after_insert {
                self.nested(|tx| hook(tx, &doc))?;
            }
        }
        Ok(Id::from_raw(id))
    }
}

impl WriteTx {
    /// Inserts every row of `rows` and returns their ids, in order; all or nothing: if one row
    /// is refused, none is kept and the error is [`Error::BatchRow`] with the row's position
    /// and its own error (which names the value). An empty input is `Ok(vec![])`.
    ///
    /// Each row is checked and written as [`insert`](WriteTx::insert) would (hooks included),
    /// while an undo log records what to take back if a later row is refused; it costs about
    /// what the loop costs (a few percent more for the log). Its use is the guarantee and the
    /// error, not speed.
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Tag { #[unique] name: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Tag>().in_memory()?;
    /// let ids = db.write(|tx| tx.insert_many(["rust", "redb", "orm"].map(|n| Tag { name: n.into() })))?;
    /// assert_eq!(ids.len(), 3);
    /// let err = db.write(|tx| tx.insert_many(["new", "rust"].map(|n| Tag { name: n.into() }))).unwrap_err();
    /// assert!(matches!(err, redorm::Error::BatchRow { position: 1, .. }));
    /// assert!(err.is_unique(Tag::by_name()));
    /// assert_eq!(db.read()?.query::<Tag>().count()?, 3);
    /// # Ok(()) }
    /// ```
    pub fn insert_many<T: Table>(
        &mut self,
        rows: impl IntoIterator<Item = T>,
    ) -> Result<Vec<Id<T>>> {
        let _span = crate::trace::write(&self.store.span, "insert_many", T::NAME);
        self.atomic(|tx| {
            let mut ids = Vec::new();
            for (position, value) in rows.into_iter().enumerate() {
                ids.push(
                    tx.insert_row(value)
                        .map_err(|e| in_batch::<T>(position, e))?,
                );
            }
            Ok(ids)
        })
    }
}

/// The error of row `position` of a bulk insert.
fn in_batch<T: Table>(position: usize, error: Error) -> Error {
    Error::BatchRow {
        table: T::NAME,
        position,
        error: Box::new(error),
    }
}
