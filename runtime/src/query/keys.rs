//! What a query can answer from index keys and row headers alone, without decoding rows:
//! how many rows match, and which ids (for bulk writes).

use super::Query;
use super::exec::Exec;
use super::plan::Access;
use super::scan::scan_probes;
use crate::codec::row::RowHeader;
use crate::error::Result;
use crate::model::{Id, Table, Visibility};
use crate::storage::{self, Source};
use crate::trace;

impl<T: Table> Query<'_, T> {
    /// How many rows match (after `offset`, at most `limit`). Reads only index keys, without
    /// decoding rows, when no post-filter is needed; the row count of a table without a
    /// filter costs nothing.
    pub fn count(&self) -> Result<usize> {
        let _span = trace::query(self.tx.span(), T::NAME, "count");
        let (plan, info) = (self.plan()?, self.info()?);
        trace::plan(|| plan.describe(&info.schema));
        let cap = |n: usize| {
            let n = n.saturating_sub(self.offset);
            self.limit.map_or(n, |l| n.min(l))
        };
        // A table that never holds soft-deleted rows has none to count.
        if !info.may_hold_deleted && self.visibility == Visibility::Deleted {
            return Ok(0);
        }
        // Index keys and the table's row count include soft-deleted rows.
        let keys_suffice = !info.may_hold_deleted || self.visibility == Visibility::All;
        if plan.residual.is_none() && keys_suffice {
            match &plan.access {
                Access::Rows => {
                    let n = self.tx.row_count(T::NAME)?;
                    return Ok(cap(usize::try_from(n).unwrap_or(usize::MAX)));
                }
                Access::Index {
                    index,
                    probes,
                    range,
                } => {
                    let table = &info.index_tables[*index];
                    let mut n = 0usize;
                    let want = self.limit.map(|l| l.saturating_add(self.offset));
                    scan_probes(self.tx, table, probes, range, false, &mut |_| {
                        n += 1;
                        Ok(want.is_none_or(|w| n < w))
                    })?;
                    return Ok(cap(n));
                }
            }
        }
        let mut exec = Exec::<T>::new(self.tx, self.db, self.view, info, plan, None)?;
        let mut n = 0usize;
        let want = self.limit.map(|l| l.saturating_add(self.offset));
        while want.is_none_or(|w| n < w) && exec.next()?.is_some() {
            n += 1;
        }
        Ok(cap(n))
    }

    /// The ids of the matching rows, in the order [`all`](Query::all) returns them, reading
    /// only keys and row headers where they decide (no filter left to check on the row).
    pub(crate) fn ids(&self) -> Result<Vec<Id<T>>> {
        let plan = self.plan()?;
        let info = self.info()?;
        if plan.residual.is_some() || plan.sort.is_some() || plan.merge || self.offset > 0 {
            return Ok(self.all()?.into_iter().map(|d| d.id).collect());
        }
        let limit = self.limit.unwrap_or(usize::MAX);
        let vis = self.visibility;
        // Only a table that can hold soft-deleted rows needs its rows' headers looked at.
        let check = info.may_hold_deleted && vis != Visibility::All;
        let admits = |id: u64, bytes: &[u8]| -> Result<bool> {
            let mut input = bytes;
            let header = RowHeader::read(&mut input)
                .map_err(|e| storage::corrupt(T::NAME, Some(id), e.detail))?;
            Ok(vis.admits(header.deleted.is_some()))
        };
        let mut ids = Vec::new();
        if !info.may_hold_deleted && vis == Visibility::Deleted || limit == 0 {
            return Ok(ids);
        }
        match &plan.access {
            Access::Rows => {
                let (lo, hi) = plan.ids;
                self.tx
                    .scan_rows(T::NAME, lo, hi, plan.reverse, &mut |id, bytes| {
                        if !check || admits(id, bytes)? {
                            ids.push(Id::from_raw(id));
                        }
                        Ok(ids.len() < limit)
                    })?;
            }
            Access::Index {
                index,
                probes,
                range,
            } => {
                let table = &info.index_tables[*index];
                let mut found = Vec::new();
                scan_probes(self.tx, table, probes, range, plan.reverse, &mut |k| {
                    let id = storage::row_id_of_key(T::NAME, k)?;
                    found.push(id);
                    Ok(check || found.len() < limit)
                })?;
                for id in found {
                    if ids.len() >= limit {
                        break;
                    }
                    let keep = if check {
                        let read = self.tx.with_row(T::NAME, id, |b| admits(id, b))?;
                        read.ok_or_else(|| {
                            storage::corrupt(
                                T::NAME,
                                Some(id),
                                format!(
                                    "index `{}` points to a row that does not exist",
                                    info.schema.indexes[*index].name
                                ),
                            )
                        })?
                    } else {
                        true
                    };
                    if keep {
                        ids.push(Id::from_raw(id));
                    }
                }
            }
        }
        Ok(ids)
    }
}
