//! Rewriting rows: `patch`, `replace`, and the read-check-write every update shares.

use super::cause::UpdateCause;
use super::notify::ChangeKind;
use super::tx::WriteTx;
use crate::catalog::{
    IndexKey, TableInfo, decode_parts, decode_value, encode_row, fk_values, full_key, index_keys,
    read_header,
};
use crate::codec::row::RowHeader;
use crate::error::{Error, Result};
use crate::model::{Doc, Id, Table};
use crate::storage::{Sink, Source};

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
    /// Reads row `id` (any visibility) with its header, decoding it once.
    pub(crate) fn load_row<T: Table>(
        &self,
        info: &TableInfo,
        id: u64,
    ) -> Result<(RowHeader, Doc<T>)> {
        let found = self.store.with_row(T::NAME, id, |bytes| {
            let (header, value) = decode_parts::<T>(info, id, bytes)?;
            Ok((header, Doc::from_parts(Id::from_raw(id), header, value)))
        })?;
        found.ok_or(Error::NotFound { table: T::NAME, id })
    }

    /// Reads row `id` for an update: its header, its index keys and foreign keys, the value to
    /// change, and (only when update hooks will want it) the old row beside it. One storage
    /// read; the columns are decoded a second time only for the hooks' copy (`T` need not be
    /// `Clone`).
    pub(crate) fn prepare<T: Table>(
        &self,
        info: &TableInfo,
        id: u64,
        live_only: bool,
    ) -> Result<(Prepared<T>, T)> {
        let wants_old = self.guards(T::NAME)
            || self
                .hooks::<T>()
                .is_some_and(|h| !h.before_update.is_empty() || !h.after_update.is_empty());
        let found = self.store.with_row(T::NAME, id, |bytes| {
            let mut input = bytes;
            let header = read_header(info, id, &mut input)?;
            if live_only && header.deleted.is_some() {
                return Ok(None);
            }
            let value = decode_value::<T>(info, id, &header, input)?;
            let old = if wants_old {
                let copy = decode_value::<T>(info, id, &header, input)?;
                Some(Doc::from_parts(Id::from_raw(id), header, copy))
            } else {
                None
            };
            Ok(Some((header, value, old)))
        })?;
        let Some((header, value, old)) = found.flatten() else {
            return Err(Error::NotFound { table: T::NAME, id });
        };
        let keys = index_keys(info, &value)?;
        let fks = fk_values(info, &value);
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
        if self.track_changes {
            let slot = self.db.slot::<T>()?;
            self.record(slot, id, ChangeKind::Updated);
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
        let _span = crate::trace::write(&self.store.span, "patch", T::NAME);
        if self.may_fail_late() {
            return self.atomic(|tx| tx.patch_row(id, f));
        }
        self.patch_row(id, f)
    }

    fn patch_row<T: Table>(&mut self, id: Id<T>, f: impl FnOnce(&mut T)) -> Result<()> {
        let db = self.db.clone();
        let info = db.info::<T>()?;
        let (prepared, mut new) = self.prepare::<T>(info, id.get(), true)?;
        f(&mut new);
        if let Some(old) = &prepared.old {
            self.guard_update(old, &new)?;
        }
        self.rewrite(info, prepared, new, &UpdateCause::Write, false)
    }

    /// Replaces live row `id` with `value` (its id and `created_at` stay).
    ///
    /// Fails like [`patch`](WriteTx::patch).
    pub fn replace<T: Table>(&mut self, id: Id<T>, value: T) -> Result<()> {
        let _span = crate::trace::write(&self.store.span, "replace", T::NAME);
        if self.may_fail_late() {
            return self.atomic(|tx| tx.patch_row(id, |v| *v = value));
        }
        self.patch_row(id, |v| *v = value)
    }
}
