//! Write transactions: inserts, updates and deletes that keep every index exact, check unique
//! and foreign keys, apply `on_delete` actions, soft-delete, and run hooks.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use crate::column::KeyArg;
use crate::db::{DbInner, TableInfo, child_index};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::hooks::{DeleteCause, Hooks, MAX_HOOK_DEPTH, UpdateCause};
use crate::id::Id;
use crate::query::Query;
use crate::relation::{Cardinality, Relation};
use crate::schema::{DeleteMode, OnDelete, OnSoftDelete, Table, UniqueIndex};
use crate::storage::{self, RowHeader, Sink, Source, Space, TxStats, WriteStore};
use crate::tx::{Doc, Durability, decode_doc, read_methods};

/// The key (without the id suffix) a row has in one index, and whether it takes part in the
/// uniqueness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexKey {
    prefix: Vec<u8>,
    checked: bool,
}

pub(crate) fn index_keys<T: Table>(info: &TableInfo, value: &T) -> Result<Vec<IndexKey>> {
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

pub(crate) fn full_key(prefix: &[u8], id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + storage::ID_LEN);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

pub(crate) fn key_debug<T: Table>(info: &TableInfo, pos: usize, value: &T) -> String {
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

/// The first row under `prefix` in index `pos` that conflicts with a row `except` for a
/// unique check: any other row, or, for an index that releases soft-deleted values, any other
/// live row.
pub(crate) fn unique_conflict<S: Source>(
    s: &S,
    info: &TableInfo,
    pos: usize,
    prefix: &[u8],
    except: Option<u64>,
) -> Result<Option<u64>> {
    for id in storage::probe(s, &info.index_tables[pos], prefix)? {
        if Some(id) == except {
            continue;
        }
        if info.released[pos] {
            let deleted =
                storage::row_header(s, info.schema.name, id)?.is_some_and(|h| h.deleted.is_some());
            if deleted {
                continue;
            }
        }
        return Ok(Some(id));
    }
    Ok(None)
}

/// A row read for an update.
struct Prepared<T> {
    id: u64,
    header: RowHeader,
    keys: Vec<IndexKey>,
    fks: Vec<Option<u64>>,
    /// The old row, kept only when update hooks will be shown it.
    old: Option<Doc<T>>,
}

/// A write transaction. Get one from [`Db::write`](crate::Db::write) (commits when the closure
/// returns `Ok`) or [`Db::begin_write`](crate::Db::begin_write) (commit with
/// [`commit`](WriteTx::commit); dropped means rolled back).
///
/// Every write keeps every index exact and checks unique indexes and foreign keys before it
/// changes anything: a write that fails with an error leaves the transaction as it was before
/// the call (a hook's error aside: see the [hooks](crate::hooks) docs).
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// struct Counter { #[unique] name: String, n: u64 }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder().table::<Counter>().in_memory()?;
/// let mut tx = db.begin_write()?;
/// let id = tx.insert(Counter { name: "hits".into(), n: 0 })?;
/// tx.patch(id, |c| c.n += 1)?;
/// // A refused write changes nothing and the transaction goes on.
/// assert!(tx.insert(Counter { name: "hits".into(), n: 9 }).is_err());
/// tx.commit()?;
/// assert_eq!(db.read()?.get(id)?.unwrap().n, 1);
/// # Ok(()) }
/// ```
pub struct WriteTx {
    pub(crate) db: Arc<DbInner>,
    pub(crate) store: WriteStore,
    /// Next id per table slot, loaded on first insert and written back at commit.
    next_ids: HashMap<usize, u64>,
    hooks_on: bool,
    hook_depth: usize,
}

impl fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTx").finish_non_exhaustive()
    }
}

/// What a hard delete will do, planned before anything changes.
#[derive(Default)]
struct HardPlan {
    /// Rows to remove, children before parents, each with why.
    deletes: Vec<(usize, u64, DeleteCause)>,
    /// Foreign keys to clear or reset: (slot, id, column, action, parent table, parent id).
    updates: Vec<(usize, u64, usize, OnDelete, &'static str, u64)>,
}

impl HardPlan {
    fn len(&self) -> usize {
        self.deletes.len() + self.updates.len()
    }
}

impl WriteTx {
    pub(crate) fn new(db: Arc<DbInner>, store: WriteStore) -> Self {
        WriteTx {
            db,
            store,
            next_ids: HashMap::new(),
            hooks_on: true,
            hook_depth: 0,
        }
    }

    /// Sets how durable the commit is; the default is [`Durability::Immediate`].
    pub fn set_durability(&mut self, durability: Durability) -> Result<()> {
        self.store.set_durability(durability)
    }

    /// Makes every write of the transaction permanent.
    pub fn commit(mut self) -> Result<()> {
        for (&slot, &next) in &self.next_ids {
            self.store
                .set_counter(self.db.tables[slot].schema.name, next - 1)?;
        }
        self.store.commit()
    }

    /// Discards every write of the transaction (what dropping it does too).
    pub fn abort(self) -> Result<()> {
        self.store.abort()
    }

    read_methods!(Write);

    /// Runs `f` with hooks switched off: its writes run no hook (for migrations, repairs and
    /// system work).
    pub fn without_hooks<R>(&mut self, f: impl FnOnce(&mut WriteTx) -> R) -> R {
        let was = std::mem::replace(&mut self.hooks_on, false);
        let out = f(self);
        self.hooks_on = was;
        out
    }

    fn hooks<T: Table>(&self) -> Option<Arc<Hooks<T>>> {
        if self.hooks_on {
            self.db.hooks.get::<T>()
        } else {
            None
        }
    }

    /// Runs `f` one hook level deeper.
    fn nested<R>(&mut self, f: impl FnOnce(&mut WriteTx) -> Result<R>) -> Result<R> {
        if self.hook_depth >= MAX_HOOK_DEPTH {
            return Err(Error::HookDepth {
                max: MAX_HOOK_DEPTH,
            });
        }
        self.hook_depth += 1;
        let out = f(self);
        self.hook_depth -= 1;
        out
    }

    fn next_id(&mut self, slot: usize) -> Result<u64> {
        let next = match self.next_ids.get(&slot) {
            Some(&n) => n,
            None => {
                let name = self.db.tables[slot].schema.name;
                self.store.counter(name)? + 1
            }
        };
        self.next_ids.insert(slot, next + 1);
        Ok(next)
    }

    /// A fresh token for a soft delete (shared by every row it reaches).
    fn next_token(&mut self) -> Result<u64> {
        const KEY: &str = "__redorm_delete_tokens";
        let token = self.store.counter(KEY)? + 1;
        self.store.set_counter(KEY, token)?;
        Ok(token)
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
    /// [`Error::ForeignKey`] if a foreign key points at no live row; nothing is written then.
    pub fn insert<T: Table>(&mut self, mut value: T) -> Result<Id<T>> {
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
        self.store.put_row(T::NAME, id, &row)?;
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

    fn load_row<T: Table>(&self, info: &TableInfo, id: u64) -> Result<(RowHeader, Doc<T>)> {
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
    fn prepare<T: Table>(
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
    fn rewrite<T: Table>(
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
    fn decode_again<T: Table>(&self, info: &TableInfo, id: u64) -> Result<T> {
        Ok(self.load_row::<T>(info, id)?.1.into_inner())
    }

    /// Deletes row `id` the way its table says (`#[table(delete = ...)]`):
    ///
    /// * `hard` (the default): the row and its index entries go, and every foreign key
    ///   pointing at it acts per its `on_delete`: `restrict` fails with [`Error::Restrict`]
    ///   and deletes nothing; `cascade` deletes those rows too, recursively, children before
    ///   parents; `set_null` and `set_default` rewrite them. A cascade touching more than
    ///   `max_cascade_rows` rows is refused with [`Error::CascadeTooLarge`] before anything
    ///   changes.
    /// * `soft`: the row is stamped `deleted_at` and hidden from reads; rows whose foreign key
    ///   says `on_soft_delete = cascade` are soft-deleted with it. Deleting it again re-stamps.
    /// * `scheduled(delay)`: soft now, and a job deletes it hard (with its cascades) once the
    ///   delay has passed; see [`Db::run_due_jobs`](crate::Db::run_due_jobs).
    ///
    /// Fails with [`Error::NotFound`] if there is no such row.
    pub fn delete<T: Table>(&mut self, id: Id<T>) -> Result<()> {
        let db = self.db.clone();
        let slot = db.slot::<T>()?;
        match db.tables[slot].schema.delete {
            DeleteMode::Hard => self.hard_delete_slot(slot, id.get(), T::NAME),
            DeleteMode::Soft => self.soft_delete_slot(slot, id.get(), T::NAME, None),
            DeleteMode::Scheduled { delay_ms } => {
                self.soft_delete_slot(slot, id.get(), T::NAME, Some(delay_ms))
            }
        }
    }

    /// Deletes row `id` hard whatever the table's delete mode, with the same foreign-key
    /// actions as a hard [`delete`](WriteTx::delete); purges a soft-deleted row and cancels
    /// its scheduled deletion.
    pub fn hard_delete<T: Table>(&mut self, id: Id<T>) -> Result<()> {
        let slot = self.db.slot::<T>()?;
        self.hard_delete_slot(slot, id.get(), T::NAME)
    }

    fn hard_delete_slot(&mut self, slot: usize, id: u64, name: &'static str) -> Result<()> {
        if storage::row_header(&self.store, name, id)?.is_none() {
            return Err(Error::NotFound { table: name, id });
        }
        let plan = self.plan_hard(slot, id, Some(self.db.max_cascade_rows))?;
        self.cancel_jobs(slot, id)?;
        self.apply_hard(&plan.updates, &plan.deletes)
    }

    /// Plans the hard delete of row `id` of table `slot`: restricts are checked, cascades
    /// followed depth-first, nothing changed.
    fn plan_hard(&self, slot: usize, id: u64, max: Option<usize>) -> Result<HardPlan> {
        let mut plan = HardPlan::default();
        let mut seen: HashSet<(usize, u64)> = HashSet::new();
        self.plan_visit(slot, id, DeleteCause::Direct, max, &mut plan, &mut seen)
            .map_err(|e| match e {
                // Name the row the caller deleted, not the one where the count ran over.
                Error::CascadeTooLarge { rows, max, .. } => self.too_large(slot, id, rows, max),
                e => e,
            })?;
        let doomed: HashSet<(usize, u64)> = plan.deletes.iter().map(|(s, i, _)| (*s, *i)).collect();
        plan.updates
            .retain(|(s, i, ..)| !doomed.contains(&(*s, *i)));
        Ok(plan)
    }

    fn plan_visit(
        &self,
        slot: usize,
        id: u64,
        cause: DeleteCause,
        max: Option<usize>,
        plan: &mut HardPlan,
        seen: &mut HashSet<(usize, u64)>,
    ) -> Result<()> {
        if !seen.insert((slot, id)) {
            return Ok(());
        }
        let db = self.db.clone();
        let info = &db.tables[slot];
        for &(child_slot, fk_pos) in &info.referenced_by {
            let child = &db.tables[child_slot];
            let fk = &child.schema.foreign_keys[fk_pos];
            let index = child_index(child, fk.column)?;
            let children = storage::probe(
                &self.store,
                &child.index_tables[index],
                &storage::fk_prefix(id, fk.nullable),
            )?;
            if children.is_empty() {
                continue;
            }
            match fk.on_delete {
                OnDelete::Restrict => {
                    let blocking = children
                        .iter()
                        .filter(|c| !seen.contains(&(child_slot, **c)))
                        .count();
                    if blocking > 0 {
                        return Err(Error::Restrict {
                            table: info.schema.name,
                            id,
                            child_table: child.schema.name,
                            column: child.schema.columns[fk.column].name,
                            count: blocking,
                        });
                    }
                }
                OnDelete::Cascade => {
                    for c in children {
                        let cause = DeleteCause::Cascade {
                            parent_table: info.schema.name,
                            parent_id: id,
                        };
                        self.plan_visit(child_slot, c, cause, max, plan, seen)?;
                    }
                }
                action @ (OnDelete::SetNull | OnDelete::SetDefault) => {
                    for c in children {
                        plan.updates
                            .push((child_slot, c, fk.column, action, info.schema.name, id));
                    }
                }
            }
            if let Some(max) = max
                && plan.len() > max
            {
                return Err(self.too_large(slot, id, plan.len(), max));
            }
        }
        plan.deletes.push((slot, id, cause));
        if let Some(max) = max
            && plan.len() > max
        {
            return Err(self.too_large(slot, id, plan.len(), max));
        }
        Ok(())
    }

    fn too_large(&self, slot: usize, id: u64, rows: usize, max: usize) -> Error {
        Error::CascadeTooLarge {
            table: self.db.tables[slot].schema.name,
            id,
            rows,
            max,
        }
    }

    fn apply_hard(
        &mut self,
        updates: &[(usize, u64, usize, OnDelete, &'static str, u64)],
        deletes: &[(usize, u64, DeleteCause)],
    ) -> Result<()> {
        let db = self.db.clone();
        for &(slot, id, column, action, parent_table, parent_id) in updates {
            (db.tables[slot].ops.set_fk)(self, id, column, action, parent_table, parent_id)?;
        }
        for (slot, id, cause) in deletes {
            (db.tables[*slot].ops.remove)(self, *id, cause)?;
        }
        Ok(())
    }

    /// Removes one row and its index entries (no cascade), with delete hooks.
    pub(crate) fn remove_one<T: Table>(&mut self, id: u64, cause: &DeleteCause) -> Result<()> {
        let db = self.db.clone();
        let info = db.info::<T>()?;
        let (_, doc) = self.load_row::<T>(info, id)?;
        let hooks = self.hooks::<T>();
        if let Some(h) = &hooks {
            for hook in &h.before_delete {
                self.nested(|tx| hook(tx, &doc, cause))?;
            }
        }
        let keys = index_keys(info, doc.value())?;
        for (pos, key) in keys.iter().enumerate() {
            self.store
                .remove_index(&info.index_tables[pos], &full_key(&key.prefix, id))?;
        }
        self.store.remove_row(T::NAME, id)?;
        if let Some(h) = &hooks {
            for hook in &h.after_delete {
                self.nested(|tx| hook(tx, &doc, cause))?;
            }
        }
        Ok(())
    }

    /// Clears or resets foreign key `column` of row `id` (an `on_delete` action).
    pub(crate) fn set_fk<T: Table>(
        &mut self,
        id: u64,
        column: usize,
        action: OnDelete,
        parent_table: &'static str,
        parent_id: u64,
    ) -> Result<()> {
        let db = self.db.clone();
        let info = db.info::<T>()?;
        let (prepared, mut new) = self.prepare::<T>(info, id, false)?;
        let done = match action {
            OnDelete::SetNull => new.set_column_null(column),
            _ => new.set_column_default(column),
        };
        if !done {
            return Err(Error::Schema {
                table: T::NAME.to_string(),
                message: format!(
                    "column `{}` cannot be {} by `on_delete`; make it an Option or give it a #[default(...)]",
                    info.schema.columns.get(column).map_or("?", |c| c.name),
                    if action == OnDelete::SetNull {
                        "cleared"
                    } else {
                        "reset"
                    }
                ),
            });
        }
        let cause = UpdateCause::ForeignKeyAction {
            parent_table,
            parent_id,
        };
        self.rewrite(info, prepared, new, &cause, false)
    }

    /// Sets (`Some`) or clears (`None`) the soft-delete stamp of row `id`, with update hooks.
    pub(crate) fn mark<T: Table>(
        &mut self,
        id: u64,
        stamp: Option<(i64, u64)>,
        cause: &UpdateCause,
    ) -> Result<()> {
        let db = self.db.clone();
        let info = db.info::<T>()?;
        let (mut prepared, new) = self.prepare::<T>(info, id, false)?;
        let restoring = stamp.is_none() && prepared.header.deleted.is_some();
        prepared.header.deleted = stamp;
        // Undeleting re-checks unique indexes that released the row's values.
        self.rewrite(info, prepared, new, cause, restoring)
    }

    fn soft_delete_slot(
        &mut self,
        slot: usize,
        id: u64,
        name: &'static str,
        schedule: Option<u64>,
    ) -> Result<()> {
        let Some(header) = storage::row_header(&self.store, name, id)? else {
            return Err(Error::NotFound { table: name, id });
        };
        let now = self.db.clock.now_ms();
        let (token, marks) = match header.deleted {
            // Deleting again re-stamps the row and what was soft-deleted with it.
            Some((_, token)) => (token, self.soft_group(slot, id, token)?),
            None => {
                let token = self.next_token()?;
                (token, self.soft_plan(slot, id)?)
            }
        };
        if marks.len() > self.db.max_cascade_rows {
            return Err(self.too_large(slot, id, marks.len(), self.db.max_cascade_rows));
        }
        let db = self.db.clone();
        for (s, i, cause) in &marks {
            (db.tables[*s].ops.mark)(self, *i, Some((now, token)), cause)?;
        }
        if let Some(delay) = schedule {
            self.cancel_jobs(slot, id)?;
            let due = now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
            self.add_job(due, name, id, token)?;
        }
        Ok(())
    }

    /// The rows a soft delete of a live row stamps: the row, then every live row reached
    /// through `on_soft_delete = cascade` foreign keys.
    fn soft_plan(&self, slot: usize, id: u64) -> Result<Vec<(usize, u64, UpdateCause)>> {
        let mut out = vec![(slot, id, UpdateCause::SoftDelete { cascade_from: None })];
        let mut seen: HashSet<(usize, u64)> = HashSet::from([(slot, id)]);
        let mut i = 0;
        while i < out.len() {
            let (s, parent) = (out[i].0, out[i].1);
            for (cs, c) in self.soft_children(s, parent)? {
                let live = storage::row_header(&self.store, self.db.tables[cs].schema.name, c)?
                    .is_some_and(|h| h.deleted.is_none());
                if live && seen.insert((cs, c)) {
                    let from = (self.db.tables[s].schema.name, parent);
                    out.push((
                        cs,
                        c,
                        UpdateCause::SoftDelete {
                            cascade_from: Some(from),
                        },
                    ));
                }
            }
            i += 1;
        }
        Ok(out)
    }

    /// The rows stamped with `token` below (and including) row `id`.
    fn soft_group(
        &self,
        slot: usize,
        id: u64,
        token: u64,
    ) -> Result<Vec<(usize, u64, UpdateCause)>> {
        let mut out = vec![(slot, id, UpdateCause::SoftDelete { cascade_from: None })];
        let mut seen: HashSet<(usize, u64)> = HashSet::from([(slot, id)]);
        let mut i = 0;
        while i < out.len() {
            let (s, parent) = (out[i].0, out[i].1);
            for (cs, c) in self.soft_children(s, parent)? {
                let same = storage::row_header(&self.store, self.db.tables[cs].schema.name, c)?
                    .and_then(|h| h.deleted)
                    .is_some_and(|(_, t)| t == token);
                if same && seen.insert((cs, c)) {
                    let from = (self.db.tables[s].schema.name, parent);
                    out.push((
                        cs,
                        c,
                        UpdateCause::SoftDelete {
                            cascade_from: Some(from),
                        },
                    ));
                }
            }
            i += 1;
        }
        Ok(out)
    }

    /// Rows pointing at row `id` of `slot` through an `on_soft_delete = cascade` key.
    fn soft_children(&self, slot: usize, id: u64) -> Result<Vec<(usize, u64)>> {
        let mut out = Vec::new();
        for &(cs, fk_pos) in &self.db.tables[slot].referenced_by {
            let child = &self.db.tables[cs];
            let fk = &child.schema.foreign_keys[fk_pos];
            if fk.on_soft_delete != OnSoftDelete::Cascade {
                continue;
            }
            let index = child_index(child, fk.column)?;
            for c in storage::probe(
                &self.store,
                &child.index_tables[index],
                &storage::fk_prefix(id, fk.nullable),
            )? {
                out.push((cs, c));
            }
        }
        Ok(out)
    }

    /// Restores a soft-deleted row and exactly the rows soft-deleted with it (same delete),
    /// and cancels its scheduled deletion (rows a job already purged stay purged).
    ///
    /// A live row is left as it is. Fails with [`Error::NotFound`] if there is no such row,
    /// and with [`Error::Unique`] if an index that releases soft-deleted values
    /// ([`DbBuilder::release_on_soft_delete`](crate::DbBuilder::release_on_soft_delete)) has
    /// since given the value to another row.
    pub fn undelete<T: Table>(&mut self, id: Id<T>) -> Result<()> {
        let slot = self.db.slot::<T>()?;
        let Some(header) = storage::row_header(&self.store, T::NAME, id.get())? else {
            return Err(Error::NotFound {
                table: T::NAME,
                id: id.get(),
            });
        };
        let Some((_, token)) = header.deleted else {
            return Ok(());
        };
        let group = self.soft_group(slot, id.get(), token)?;
        self.cancel_jobs(slot, id.get())?;
        let db = self.db.clone();
        for (s, i, _) in &group {
            (db.tables[*s].ops.mark)(self, *i, None, &UpdateCause::Undelete)?;
        }
        Ok(())
    }

    /// Deletes the rows of `T` a filter selects, each as [`delete`](WriteTx::delete) would.
    pub fn delete_many<T: Table>(&mut self) -> DeleteMany<'_, T> {
        DeleteMany {
            tx: self,
            filter: None,
            all: false,
            allow_full_scan: false,
        }
    }

    /// Changes the rows of `T` a filter selects, each as [`patch`](WriteTx::patch) would.
    pub fn update<T: Table>(&mut self) -> Update<'_, T> {
        Update {
            tx: self,
            filter: None,
            all: false,
            allow_full_scan: false,
        }
    }

    fn select_ids<T: Table>(
        &self,
        filter: &Option<Filter<T>>,
        all: bool,
        allow_full_scan: bool,
        what: &str,
    ) -> Result<Vec<Id<T>>> {
        let mut q = self.query::<T>();
        match filter {
            Some(f) => q = q.filter(f.clone()),
            None if all => {}
            None => {
                return Err(Error::InvalidQuery {
                    table: T::NAME,
                    reason: format!(
                        "{what} without a filter would touch every row; add .filter(...) or say .all()"
                    ),
                });
            }
        }
        if allow_full_scan {
            q = q.allow_full_scan();
        }
        Ok(q.all()?.into_iter().map(|d| d.id).collect())
    }

    // ---- scheduled deletion jobs ------------------------------------------------------------

    fn add_job(&mut self, due: i64, table: &str, id: u64, token: u64) -> Result<()> {
        const KEY: &str = "__redorm_jobs";
        let job_id = self.store.counter(KEY)? + 1;
        self.store.set_counter(KEY, job_id)?;
        let key = crate::jobs::job_key(due, job_id);
        let value = crate::jobs::Job {
            table: table.to_string(),
            id,
            token,
        }
        .encode();
        self.store.put_meta(Space::Jobs, &key, &value)
    }

    /// Removes the scheduled deletions of row `id` of `slot`.
    pub(crate) fn cancel_jobs(&mut self, slot: usize, id: u64) -> Result<()> {
        let schema = &self.db.tables[slot].schema;
        // Only scheduled tables store jobs: other deletes have nothing to look for.
        if !matches!(schema.delete, DeleteMode::Scheduled { .. }) {
            return Ok(());
        }
        let name = schema.name;
        let mut doomed = Vec::new();
        self.store.txn().scan(
            Space::Jobs,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            &mut |k, v| {
                if let Some(job) = crate::jobs::Job::decode(v)
                    && job.table == name
                    && job.id == id
                {
                    doomed.push(k.to_vec());
                }
                Ok(true)
            },
        )?;
        for k in doomed {
            self.store.remove_meta(Space::Jobs, &k)?;
        }
        Ok(())
    }

    /// Runs up to `budget` steps of the purge of row `id` (children first, the row last).
    /// Returns (rows updated, rows deleted, whether the row itself is gone).
    pub(crate) fn purge_step(
        &mut self,
        slot: usize,
        id: u64,
        budget: usize,
    ) -> Result<(usize, usize, bool)> {
        let plan = self.plan_hard(slot, id, None)?;
        let updates: Vec<_> = plan.updates.into_iter().take(budget).collect();
        let left = budget - updates.len();
        let total_deletes = plan.deletes.len();
        let deletes: Vec<_> = plan
            .deletes
            .into_iter()
            .take(left)
            .map(|(s, i, _)| (s, i, DeleteCause::Scheduled))
            .collect();
        let finished = deletes.len() == total_deletes;
        self.apply_hard(&updates, &deletes)?;
        Ok((updates.len(), deletes.len(), finished))
    }
}

/// Deletes the rows a filter selects; from [`WriteTx::delete_many`].
#[must_use = "nothing is deleted until .execute() is called"]
pub struct DeleteMany<'tx, T> {
    tx: &'tx mut WriteTx,
    filter: Option<Filter<T>>,
    all: bool,
    allow_full_scan: bool,
}

impl<T> fmt::Debug for DeleteMany<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeleteMany")
            .field("filter", &self.filter)
            .field("all", &self.all)
            .finish()
    }
}

/// The selection methods shared by [`DeleteMany`] and [`Update`].
macro_rules! selection_methods {
    ($what:literal) => {
        /// Selects the rows (several calls combine with `AND`).
        pub fn filter(mut self, filter: Filter<T>) -> Self {
            self.filter = Some(match self.filter.take() {
                None => filter,
                Some(prev) => prev.and(filter),
            });
            self
        }
        #[doc = concat!("Selects every row: without a filter, `", $what, "` refuses unless this is said.")]
        pub fn all(mut self) -> Self {
            self.all = true;
            self
        }
        /// Allows a filter no index serves (see strict mode on [`Query`]).
        pub fn allow_full_scan(mut self) -> Self {
            self.allow_full_scan = true;
            self
        }
    };
}

impl<T: Table> DeleteMany<'_, T> {
    selection_methods!("execute");
    /// Deletes each selected row as [`WriteTx::delete`] would; returns how many were selected.
    /// A row already removed by an earlier row's cascade is skipped.
    pub fn execute(self) -> Result<usize> {
        let ids =
            self.tx
                .select_ids(&self.filter, self.all, self.allow_full_scan, "delete_many")?;
        let mut n = 0;
        for id in ids {
            if storage::row_header(&self.tx.store, T::NAME, id.get())?.is_some() {
                self.tx.delete(id)?;
                n += 1;
            }
        }
        Ok(n)
    }
}

/// Changes the rows a filter selects; from [`WriteTx::update`].
#[must_use = "nothing is changed until .set(...) is called"]
pub struct Update<'tx, T> {
    tx: &'tx mut WriteTx,
    filter: Option<Filter<T>>,
    all: bool,
    allow_full_scan: bool,
}

impl<T> fmt::Debug for Update<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Update")
            .field("filter", &self.filter)
            .field("all", &self.all)
            .finish()
    }
}

impl<T: Table> Update<'_, T> {
    selection_methods!("set");
    /// Applies `f` to each selected row as [`WriteTx::patch`] would; returns how many.
    pub fn set(self, f: impl Fn(&mut T)) -> Result<usize> {
        let ids = self
            .tx
            .select_ids(&self.filter, self.all, self.allow_full_scan, "update")?;
        for id in &ids {
            self.tx.patch(*id, &f)?;
        }
        Ok(ids.len())
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
    store.drop_index(table_name)?;
    store.create_index(table_name)?;
    let mut rows: Vec<(u64, IndexKey, String)> = Vec::new();
    store.scan_rows(
        T::NAME,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        &mut |id, bytes| {
            let doc = decode_doc::<T>(info, id, bytes)?;
            let keys = index_keys(info, doc.value())?;
            let debug = key_debug(info, pos, doc.value());
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
            && let Some(existing) = unique_conflict(store, info, pos, &key.prefix, Some(id))?
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

/// A soft-delete stamp: when, and the token shared by the rows one delete reached.
pub(crate) type Stamp = (i64, u64);

/// The table-specific operations deletion needs, monomorphized per table so the cascade can
/// walk tables it knows only by position.
#[derive(Clone, Copy)]
pub(crate) struct TableOps {
    pub(crate) remove: fn(&mut WriteTx, u64, &DeleteCause) -> Result<()>,
    pub(crate) set_fk: fn(&mut WriteTx, u64, usize, OnDelete, &'static str, u64) -> Result<()>,
    pub(crate) mark: fn(&mut WriteTx, u64, Option<Stamp>, &UpdateCause) -> Result<()>,
}

impl TableOps {
    pub(crate) fn of<T: Table>() -> Self {
        TableOps {
            remove: |tx, id, cause| tx.remove_one::<T>(id, cause),
            set_fk: |tx, id, column, action, table, parent| {
                tx.set_fk::<T>(id, column, action, table, parent)
            },
            mark: |tx, id, stamp, cause| tx.mark::<T>(id, stamp, cause),
        }
    }
}
