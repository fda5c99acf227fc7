//! Deleting rows: hard deletes planned before anything changes (restrict, cascade,
//! set_null/set_default), soft deletes with their soft cascades, undelete, and the purge step a
//! scheduled deletion runs per batch.

use std::collections::HashSet;

use super::cause::{DeleteCause, UpdateCause};
use super::notify::ChangeKind;
use super::registry::TableOps;
use super::tx::WriteTx;
use crate::catalog::{child_index, full_key, index_keys};
use crate::error::{Error, Result};
use crate::model::{Id, OnDelete, OnSoftDelete, Table};
use crate::storage::{self, Sink};

/// What a hard delete will do, planned before anything changes.
#[derive(Default)]
pub(crate) struct HardPlan {
    /// Rows to remove, children before parents, each with why.
    pub(crate) deletes: Vec<(usize, u64, DeleteCause)>,
    /// Foreign keys to clear or reset: (slot, id, column, action, parent table, parent id).
    pub(crate) updates: Vec<FkAction>,
}

/// A foreign key a hard delete clears or resets: column `column` of row `id` of table `slot`
/// points at row `parent_id` of `parent_table`, which is being deleted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FkAction {
    pub(crate) slot: usize,
    pub(crate) id: u64,
    pub(crate) column: usize,
    pub(crate) action: OnDelete,
    pub(crate) parent_table: &'static str,
    pub(crate) parent_id: u64,
}

impl HardPlan {
    fn len(&self) -> usize {
        self.deletes.len() + self.updates.len()
    }
}

impl WriteTx {
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
        let _span = crate::trace::write(&self.store.span, "delete", T::NAME);
        let slot = self.db.slot::<T>()?;
        self.guard_delete::<T>(id.get())?;
        self.delete_slot(slot, id.get())
    }

    /// Deletes row `id` hard whatever the table's delete mode, with the same foreign-key
    /// actions as a hard [`delete`](WriteTx::delete); purges a soft-deleted row and cancels
    /// its scheduled deletion.
    pub fn hard_delete<T: Table>(&mut self, id: Id<T>) -> Result<()> {
        let _span = crate::trace::write(&self.store.span, "hard_delete", T::NAME);
        let slot = self.db.slot::<T>()?;
        self.guard_delete::<T>(id.get())?;
        self.hard_delete_slot(slot, id.get(), T::NAME)
    }

    pub(crate) fn hard_delete_slot(
        &mut self,
        slot: usize,
        id: u64,
        name: &'static str,
    ) -> Result<()> {
        if storage::row_header(&self.store, name, id)?.is_none() {
            return Err(Error::NotFound { table: name, id });
        }
        let plan = self.plan_hard(slot, id, Some(self.db.max_cascade_rows))?;
        // Removing rows cannot fail once planned, but an `on_delete` rewrite (a unique or
        // foreign-key check of `set_default`) and hooks can: then the call is undone whole.
        if plan.updates.is_empty() && !self.may_fail_late() {
            self.cancel_jobs(slot, id)?;
            return self.apply_hard(&plan.updates, &plan.deletes);
        }
        self.atomic(|tx| {
            tx.cancel_jobs(slot, id)?;
            tx.apply_hard(&plan.updates, &plan.deletes)
        })
    }

    /// Plans the hard delete of row `id` of table `slot`: restricts are checked, cascades
    /// followed depth-first, nothing changed.
    pub(crate) fn plan_hard(&self, slot: usize, id: u64, max: Option<usize>) -> Result<HardPlan> {
        let mut plan = self.plan_all(slot, id, max)?;
        // Rows the plan removes need no foreign key cleared first: one transaction removes them.
        let doomed: HashSet<(usize, u64)> = plan.deletes.iter().map(|(s, i, _)| (*s, *i)).collect();
        plan.updates.retain(|u| !doomed.contains(&(u.slot, u.id)));
        Ok(plan)
    }

    /// As [`plan_hard`](WriteTx::plan_hard), keeping the `on_delete` rewrites of rows the plan
    /// also removes (a batched purge removes them in a later transaction).
    fn plan_all(&self, slot: usize, id: u64, max: Option<usize>) -> Result<HardPlan> {
        let mut plan = HardPlan::default();
        let mut seen: HashSet<(usize, u64)> = HashSet::new();
        self.plan_visit(slot, id, DeleteCause::Direct, max, &mut plan, &mut seen)
            .map_err(|e| match e {
                // Name the row the caller deleted, not the one where the count ran over.
                Error::CascadeTooLarge { rows, max, .. } => self.too_large(slot, id, rows, max),
                e => e,
            })?;
        Ok(plan)
    }

    pub(crate) fn plan_visit(
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
                        plan.updates.push(FkAction {
                            slot: child_slot,
                            id: c,
                            column: fk.column,
                            action,
                            parent_table: info.schema.name,
                            parent_id: id,
                        });
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

    pub(crate) fn too_large(&self, slot: usize, id: u64, rows: usize, max: usize) -> Error {
        Error::CascadeTooLarge {
            table: self.db.tables[slot].schema.name,
            id,
            rows,
            max,
        }
    }

    pub(crate) fn apply_hard(
        &mut self,
        updates: &[FkAction],
        deletes: &[(usize, u64, DeleteCause)],
    ) -> Result<()> {
        let setup = self.setup.clone();
        for u in updates {
            (setup.ops[u.slot].set_fk)(
                self,
                u.id,
                u.column,
                u.action,
                u.parent_table,
                u.parent_id,
            )?;
        }
        for (slot, id, cause) in deletes {
            (setup.ops[*slot].remove)(self, *id, cause)?;
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
        if self.track_changes {
            let slot = db.slot::<T>()?;
            self.record(slot, id, ChangeKind::Deleted);
        }
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

    pub(crate) fn soft_delete_slot(
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
        let stamp = |tx: &mut WriteTx| -> Result<()> {
            let setup = tx.setup.clone();
            for (s, i, cause) in &marks {
                (setup.ops[*s].mark)(tx, *i, Some((now, token)), cause)?;
            }
            if let Some(delay) = schedule {
                tx.cancel_jobs(slot, id)?;
                let due = now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
                tx.add_job(due, name, id, token)?;
            }
            Ok(())
        };
        // Stamping keeps every key as it was, so only a hook can make it fail part-way.
        if self.may_fail_late() {
            self.atomic(stamp)
        } else {
            stamp(self)
        }
    }

    /// The rows a soft delete of a live row stamps: the row, then every live row reached
    /// through `on_soft_delete = cascade` foreign keys.
    pub(crate) fn soft_plan(&self, slot: usize, id: u64) -> Result<Vec<(usize, u64, UpdateCause)>> {
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
    pub(crate) fn soft_group(
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
    pub(crate) fn soft_children(&self, slot: usize, id: u64) -> Result<Vec<(usize, u64)>> {
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
        let _span = crate::trace::write(&self.store.span, "undelete", T::NAME);
        let slot = self.db.slot::<T>()?;
        // Restoring is decided by the delete rule, as deleting is.
        self.guard_delete::<T>(id.get())?;
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
        // Restoring re-checks released unique values row by row: all of it or none.
        self.atomic(|tx| {
            tx.cancel_jobs(slot, id.get())?;
            let setup = tx.setup.clone();
            for (s, i, _) in &group {
                (setup.ops[*s].mark)(tx, *i, None, &UpdateCause::Undelete)?;
            }
            Ok(())
        })
    }

    /// Runs up to `budget` steps of the purge of row `id` (children first, the row last).
    /// Returns (rows updated, rows deleted, whether the row itself is gone).
    ///
    /// Each batch is its own transaction, so no batch may leave a reference to a row it
    /// removed: a row that a later batch removes, but whose `set_null`/`set_default` key
    /// points at a row this batch removes, has that key cleared in this batch.
    pub(crate) fn purge_step(
        &mut self,
        slot: usize,
        id: u64,
        budget: usize,
    ) -> Result<(usize, usize, bool)> {
        let plan = self.plan_all(slot, id, None)?;
        let doomed: HashSet<(usize, u64)> = plan.deletes.iter().map(|(s, i, _)| (*s, *i)).collect();
        let (mut later, mut updates): (Vec<FkAction>, Vec<FkAction>) = plan
            .updates
            .into_iter()
            .partition(|u| doomed.contains(&(u.slot, u.id)));
        updates.truncate(budget);
        let left = budget - updates.len();
        let total_deletes = plan.deletes.len();
        let deletes: Vec<_> = plan
            .deletes
            .into_iter()
            .take(left)
            .map(|(s, i, _)| (s, i, DeleteCause::Scheduled))
            .collect();
        let tables = &self.db.tables;
        let removed: HashSet<(&str, u64)> = deletes
            .iter()
            .map(|(s, i, _)| (tables[*s].schema.name, *i))
            .collect();
        let now: HashSet<(usize, u64)> = deletes.iter().map(|(s, i, _)| (*s, *i)).collect();
        later.retain(|u| {
            removed.contains(&(u.parent_table, u.parent_id)) && !now.contains(&(u.slot, u.id))
        });
        updates.extend(later);
        let finished = deletes.len() == total_deletes;
        self.apply_hard(&updates, &deletes)?;
        Ok((updates.len(), deletes.len(), finished))
    }
}

/// The operations cascades need on table `T`, for dispatch by table position.
pub(crate) fn table_ops<T: Table>() -> TableOps<WriteTx> {
    TableOps {
        remove: |tx, id, cause| tx.remove_one::<T>(id, cause),
        set_fk: |tx, id, column, action, table, parent| {
            tx.set_fk::<T>(id, column, action, table, parent)
        },
        mark: |tx, id, stamp, cause| tx.mark::<T>(id, stamp, cause),
        insert_link: |tx, from_col, from, to_col, to| {
            tx.insert_link::<T>(from_col, from, to_col, to)
        },
        guard_delete: |tx, id| tx.guard_delete::<T>(id),
    }
}
