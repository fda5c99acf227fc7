//! Many-to-many links: `link`, `link_with`, `unlink` and `set_links` write the join rows of a
//! `many_to_many` relation, with the join table's foreign keys, unique indexes, delete mode
//! and hooks applying as to any of its rows.
//!
//! A pair is linked while a live join row holds it; a soft-deleted join row links nothing (as
//! for reading the relation). `link` makes the join row from the two ids and the join table's
//! defaults, so every other column of the join table needs a `#[default]` or an `Option`;
//! `link_with` takes the whole row.

use std::collections::HashSet;

use super::tx::WriteTx;
use crate::catalog::{TableInfo, child_index};
use crate::codec;
use crate::error::{Error, Result};
use crate::model::{DeleteMode, Id, Table};
use crate::query::relation::LoadCx;
use crate::query::relation::{Join, Path, Relation, ToMany};
use crate::storage::{self, TxRef};

impl WriteTx {
    /// Links `from` to `to` through the join table of the `many_to_many` relation `rel`: inserts
    /// the join row unless the pair is linked already. `true` when it inserted one.
    ///
    /// Fails with [`Error::ForeignKey`] if either row is missing or soft-deleted, and with
    /// [`Error::InvalidQuery`] if `rel` is not a `many_to_many` relation.
    ///
    /// ```
    /// use redorm::prelude::*;
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(name = "users")]
    /// #[many_to_many(groups, Group, through = Member, from = user_id, to = group_id)]
    /// struct User { name: String }
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(name = "groups")]
    /// struct Group { name: String }
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(name = "members", unique(by_pair = [user_id, group_id]))]
    /// struct Member {
    ///     #[belongs_to(user, User, on_delete = cascade)]
    ///     user_id: Id<User>,
    ///     #[belongs_to(group, Group, on_delete = cascade)]
    ///     group_id: Id<Group>,
    ///     #[default("member")]
    ///     role: String,
    /// }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<User>().table::<Group>().table::<Member>().in_memory()?;
    /// db.write(|tx| {
    ///     let ann = tx.insert(User { name: "Ann".into() })?;
    ///     let [a, b, c] = ["a", "b", "c"].map(|n| tx.insert(Group { name: n.into() }));
    ///     let (a, b, c) = (a?, b?, c?);
    ///     assert!(tx.link(User::groups(), ann, a)?);
    ///     assert!(!tx.link(User::groups(), ann, a)?, "already linked");
    ///     tx.link(User::groups(), ann, b)?;
    ///     assert_eq!(tx.unlink(User::groups(), ann, a)?, 1);
    ///     tx.set_links(User::groups(), ann, [c, b])?;
    ///     let names: Vec<String> = tx.load(&tx.get(ann)?.unwrap(), User::groups())?
    ///         .iter().map(|g| g.name.clone()).collect();
    ///     assert_eq!(names, ["b", "c"]);
    ///     Ok(())
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn link<P: Table, C: Table>(
        &mut self,
        rel: Relation<P, C, ToMany>,
        from: Id<P>,
        to: Id<C>,
    ) -> Result<bool> {
        let (join, slot) = self.join_of(&rel)?;
        if !self
            .pair_rows(&join, slot, from.get(), to.get())?
            .is_empty()
        {
            return Ok(false);
        }
        let ops = self.setup.ops[slot];
        (ops.insert_link)(self, join.from, from.get(), join.to, to.get())?;
        Ok(true)
    }

    /// Links as [`link`](WriteTx::link) does, with the whole join row `row` (for join tables
    /// that carry data of their own): the pair is the one `row` holds. `true` when it
    /// inserted `row`; when the pair is linked already, nothing is written.
    pub fn link_with<P: Table, C: Table, J: Table>(
        &mut self,
        rel: Relation<P, C, ToMany>,
        row: J,
    ) -> Result<bool> {
        let (join, slot) = self.join_of(&rel)?;
        if self.db.tables[slot].schema.name != J::NAME {
            return Err(Error::InvalidQuery {
                table: J::NAME,
                reason: format!(
                    "relation `{}.{}` links through `{}`, not `{}`; pass a row of its join table",
                    P::NAME,
                    rel.name,
                    join.name,
                    J::NAME
                ),
            });
        }
        let (Some(from), Some(to)) = (row.column_id(join.from), row.column_id(join.to)) else {
            return Err(Error::InvalidQuery {
                table: J::NAME,
                reason: "the join row must hold both ids to link them".to_string(),
            });
        };
        if !self.pair_rows(&join, slot, from, to)?.is_empty() {
            return Ok(false);
        }
        self.insert(row)?;
        Ok(true)
    }

    /// Removes the link between `from` and `to`: deletes the join rows holding the pair, each
    /// the way the join table deletes (soft, for a soft join table). Returns how many.
    pub fn unlink<P: Table, C: Table>(
        &mut self,
        rel: Relation<P, C, ToMany>,
        from: Id<P>,
        to: Id<C>,
    ) -> Result<usize> {
        let (join, slot) = self.join_of(&rel)?;
        let rows = self.pair_rows(&join, slot, from.get(), to.get())?;
        let ops = self.setup.ops[slot];
        for &id in &rows {
            (ops.guard_delete)(self, id)?;
        }
        self.atomic(|tx| {
            for &id in &rows {
                tx.delete_slot(slot, id)?;
            }
            Ok(rows.len())
        })
    }

    /// Makes `from` linked to exactly the rows `to`: unlinks the others, links the missing
    /// ones in the order given (duplicates once). All or nothing. Returns (links added, links
    /// removed).
    pub fn set_links<P: Table, C: Table>(
        &mut self,
        rel: Relation<P, C, ToMany>,
        from: Id<P>,
        to: impl IntoIterator<Item = Id<C>>,
    ) -> Result<(usize, usize)> {
        let (join, slot) = self.join_of(&rel)?;
        let mut wanted = Vec::new();
        let mut seen = HashSet::new();
        for id in to {
            if seen.insert(id.get()) {
                wanted.push(id.get());
            }
        }
        let current = self.links_of(&join, slot, from.get())?;
        let have: HashSet<u64> = current.iter().map(|&(_, target)| target).collect();
        let ops = self.setup.ops[slot];
        for &(row, target) in &current {
            if !seen.contains(&target) {
                (ops.guard_delete)(self, row)?;
            }
        }
        self.atomic(|tx| {
            let mut removed = 0;
            for &(row, target) in &current {
                if !seen.contains(&target) {
                    tx.delete_slot(slot, row)?;
                    removed += 1;
                }
            }
            let ops = tx.setup.ops[slot];
            let mut added = 0;
            for &target in wanted.iter().filter(|t| !have.contains(t)) {
                (ops.insert_link)(tx, join.from, from.get(), join.to, target)?;
                added += 1;
            }
            Ok((added, removed))
        })
    }

    /// The join of a `many_to_many` relation and its table's slot.
    fn join_of<P: Table, C>(
        &self,
        rel: &Relation<P, C, ToMany>,
    ) -> Result<(std::sync::Arc<Join>, usize)> {
        let Path::Through(join) = &rel.path else {
            return Err(Error::InvalidQuery {
                table: P::NAME,
                reason: format!(
                    "relation `{}.{}` is not many_to_many: insert or delete its rows to link them",
                    P::NAME,
                    rel.name
                ),
            });
        };
        let slot = *self
            .db
            .by_type
            .get(&join.type_id)
            .ok_or(Error::NotRegistered {
                table: join.name,
                type_name: join.name,
            })?;
        Ok((join.clone(), slot))
    }

    /// The live join rows of `from`, with the target each links to, in join-row order.
    fn links_of(&self, join: &Join, slot: usize, from: u64) -> Result<Vec<(u64, u64)>> {
        let info = &self.db.tables[slot];
        let index = child_index(info, join.from)?;
        let rows = storage::probe(
            &self.store,
            &info.index_tables[index],
            &storage::fk_prefix(from, join.from_nullable),
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            // The links as stored, whoever writes: the join rows are the schema's.
            let system = self.view.as_system();
            let cx = LoadCx {
                tx: TxRef::Write(&self.store),
                db: &self.db,
                view: &system,
            };
            if let Some(target) = (join.target_of)(&cx, row, join.to)? {
                out.push((row, target));
            }
        }
        Ok(out)
    }

    /// The live join rows holding the pair `(from, to)`.
    fn pair_rows(&self, join: &Join, slot: usize, from: u64, to: u64) -> Result<Vec<u64>> {
        Ok(self
            .links_of(join, slot, from)?
            .into_iter()
            .filter(|&(_, target)| target == to)
            .map(|(row, _)| row)
            .collect())
    }

    /// Deletes row `id` of table `slot` the way its table says.
    pub(crate) fn delete_slot(&mut self, slot: usize, id: u64) -> Result<()> {
        let name = self.db.tables[slot].schema.name;
        match self.db.tables[slot].schema.delete {
            DeleteMode::Hard => self.hard_delete_slot(slot, id, name),
            DeleteMode::Soft => self.soft_delete_slot(slot, id, name, None),
            DeleteMode::Scheduled { delay_ms } => {
                self.soft_delete_slot(slot, id, name, Some(delay_ms))
            }
        }
    }

    /// Inserts the join row of `J` linking `from` (in column `from_col`) to `to` (in `to_col`),
    /// every other column at its default.
    pub(crate) fn insert_link<J: Table>(
        &mut self,
        from_col: usize,
        from: u64,
        to_col: usize,
        to: u64,
    ) -> Result<u64> {
        let db = self.db.clone();
        let row = join_row::<J>(db.info::<J>()?, [(from_col, from), (to_col, to)])?;
        self.insert(row).map(|id| id.get())
    }
}

/// A row of `J` holding `ids` in their columns and every other column at its default: decoded
/// as a row stored when only those two columns existed.
fn join_row<J: Table>(info: &TableInfo, ids: [(usize, u64); 2]) -> Result<J> {
    let mut bytes = Vec::new();
    for (column, id) in ids {
        if info.schema.columns.get(column).is_some_and(|c| c.nullable) {
            bytes.push(1);
        }
        codec::put_varint(&mut bytes, id);
    }
    let layout = ids.map(|(column, _)| column);
    J::decode_row(Some(&layout), &mut bytes.as_slice()).map_err(|e| Error::Schema {
        table: J::NAME.to_string(),
        message: format!(
            "`link` makes join rows from the two ids and defaults, but column `{}` has no #[default] and is not an Option; give it one, or link with `link_with` and a whole row",
            info.schema.columns.get(e.column).map_or("?", |c| c.name)
        ),
    })
}
