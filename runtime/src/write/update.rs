//! Rewriting rows: `patch`, `replace`, and the read-check-write every update shares.

use super::cause::UpdateCause;
use super::tx::WriteTx;
use crate::catalog::{
    IndexKey, TableInfo, decode_doc, encode_row, fk_values, full_key, index_keys,
};
use crate::codec::row::RowHeader;
use crate::error::{Error, Result};
use crate::model::{Doc, Id, Table};
use crate::storage::{self, Sink, Source};

/// A row read for an update.
pub(crate) struct Prepared<T> {
    pub(crate) id: u64,
    pub(crate) header: RowHeader,
    pub(crate) keys: Vec<IndexKey>,
    pub(crate) fks: Vec<Option<u64>>,
    /// The old row, kept only when update hooks will be shown it.
    pub(crate) old: Option<Doc<T>>,
}

impl WriteTx {
    pub(crate) fn load_row<T: Table>(
        &self,
        info: &TableInfo,
        id: u64,
    ) -> Result<(RowHeader, Doc<T>)> {
        let found = self.store.with_row(T::NAME, id, |bytes| {
            let mut input = bytes;
            let header = RowHeader::read(&mut input)
                .map_err(|e| storage::corrupt(T::NAME, Some(id), e.detail))?;
            let doc = decode_doc::<T>(info, id, bytes)?;
            Ok((header, doc))
        })?;
        found.ok_or(Error::NotFound { table: T::NAME, id })
    }

    /// Reads row `id` for an update: its header, its index keys and foreign keys, the value to
    /// change, and (only when update hooks will want it) a copy of the old row.
    pub(crate) fn prepare<T: Table>(
        &self,
        info: &TableInfo,
        id: u64,
        live_only: bool,
    ) -> Result<(Prepared<T>, T)> {
        let (header, doc) = self.load_row::<T>(info, id)?;
        if live_only && header.deleted.is_some() {
            return Err(Error::NotFound { table: T::NAME, id });
        }
        let keys = index_keys(info, doc.value())?;
        let fks = fk_values(info, doc.value());
        let wants_old = self
            .hooks::<T>()
            .is_some_and(|h| !h.before_update.is_empty() || !h.after_update.is_empty());
        let (old, value) = if wants_old {
            let value = self.decode_again::<T>(info, id)?;
            (Some(doc), value)
        } else {
            (None, doc.into_inner())
        };
        Ok((
            Prepared {
                id,
                header,
                keys,
                fks,
                old,
            },
            value,
        ))
    }

    /// Writes `new` over the prepared row, running update hooks with `cause`.
    pub(crate) fn rewrite<T: Table>(
        &mut self,
        info: &TableInfo,
        prepared: Prepared<T>,
        mut new: T,
        cause: &UpdateCause,
        force_unique: bool,
    ) -> Result<()> {
        let Prepared {
            id,
            mut header,
            keys: old_keys,
            fks: old_fks,
            old,
        } = prepared;
        let hooks = self.hooks::<T>();
        if let (Some(h), Some(old)) = (&hooks, &old) {
            for hook in &h.before_update {
                self.nested(|tx| hook(tx, old, &mut new, cause))?;
            }
        }
        let keys = index_keys(info, &new)?;
        let unchanged = if force_unique {
            None
        } else {
            Some(old_keys.as_slice())
        };
        self.check_unique(info, &keys, unchanged, &new, Some(id))?;
        self.check_foreign_keys(info, &new, Some(&old_fks))?;
        header.version = info.version;
        let row = encode_row(info, &header, &new)?;
        self.store.put_row(T::NAME, id, &row)?;
        for (pos, (o, n)) in old_keys.iter().zip(&keys).enumerate() {
            if o.prefix != n.prefix {
                let table = &info.index_tables[pos];
                self.store.remove_index(table, &full_key(&o.prefix, id))?;
                self.store.put_index(table, &full_key(&n.prefix, id))?;
            }
        }
        if let (Some(h), Some(old)) = (&hooks, &old)
            && !h.after_update.is_empty()
        {
            let doc = Doc::from_parts(old.id, header, new);
            for hook in &h.after_update {
                self.nested(|tx| hook(tx, old, &doc, cause))?;
            }
        }
        Ok(())
    }

    /// Reads live row `id`, lets `f` change it, and writes it back (read-modify-write).
    ///
    /// Fails with [`Error::NotFound`] if there is no such row (or it is soft-deleted),
    /// [`Error::Unique`] or [`Error::ForeignKey`] if the change breaks a constraint; the row
    /// is unchanged then.
    pub fn patch<T: Table>(&mut self, id: Id<T>, f: impl FnOnce(&mut T)) -> Result<()> {
        let db = self.db.clone();
        let info = db.info::<T>()?;
        let (prepared, mut new) = self.prepare::<T>(info, id.get(), true)?;
        f(&mut new);
        self.rewrite(info, prepared, new, &UpdateCause::Write, false)
    }

    /// Replaces live row `id` with `value` (its id and `created_at` stay).
    ///
    /// Fails like [`patch`](WriteTx::patch).
    pub fn replace<T: Table>(&mut self, id: Id<T>, value: T) -> Result<()> {
        let db = self.db.clone();
        let info = db.info::<T>()?;
        let (prepared, _) = self.prepare::<T>(info, id.get(), true)?;
        self.rewrite(info, prepared, value, &UpdateCause::Write, false)
    }

    /// A second, owned copy of a row's value (the struct need not be `Clone`).
    pub(crate) fn decode_again<T: Table>(&self, info: &TableInfo, id: u64) -> Result<T> {
        Ok(self.load_row::<T>(info, id)?.1.into_inner())
    }
}
