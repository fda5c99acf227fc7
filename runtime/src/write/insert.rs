//! Inserting rows: unique and foreign-key checks first, then the row and its index entries.

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
        let header = RowHeader {
            version: info.version,
            created_at: db.clock.now_ms(),
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
