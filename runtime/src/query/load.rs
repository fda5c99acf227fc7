//! Batched relation loading: one index probe per distinct key per level, per-parent filter,
//! order, offset and limit, nested levels.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::filter::{Env, column_key};
use super::order::compare_keyed;
use super::relation::*;
use crate::catalog::{TableInfo, child_index, decode_doc};
use crate::error::{Error, Result};
use crate::model::{Doc, Table};
use crate::storage::{self, Source, fk_prefix, probe};

/// A target row as a relation sees it.
pub(crate) enum Found<C> {
    Row(Doc<C>),
    /// Soft-deleted, and the relation does not include deleted rows.
    Hidden,
    Missing,
}

impl<P: Table, C: Table + Clone, K: Cardinality> Load<P> for Relation<P, C, K> {
    fn depth(&self) -> usize {
        self.depth
    }

    fn describe(&self) -> String {
        let mut out = format!("{} ({}", self.name, C::NAME);
        if let Some(f) = &self.filter {
            out.push_str(&format!(", where {f}"));
        }
        if !self.order.is_empty() {
            let keys: Vec<String> = self.order.iter().map(|o| format!("{o:?}")).collect();
            out.push_str(&format!(", order {}", keys.join(", ")));
        }
        if let Some(n) = self.limit {
            out.push_str(&format!(", limit {n}"));
        }
        out.push(')');
        let nested: Vec<String> = self.withs.iter().map(|w| w.describe()).collect();
        if !nested.is_empty() {
            out.push_str(&format!(" with [{}]", nested.join("; ")));
        }
        out
    }

    fn load_into(&self, cx: &mut LoadCx<'_>, parents: &mut [Doc<P>], depth: usize) -> Result<()> {
        // Refuse a chain that would go too deep before reading anything for it.
        if depth + self.depth - 1 > MAX_DEPTH {
            return Err(Error::DepthExceeded {
                relation: format!("{}.{}", P::NAME, self.name),
                max: MAX_DEPTH,
            });
        }
        let refs: Vec<&Doc<P>> = parents.iter().collect();
        let span = crate::trace::load(P::NAME, self.name, refs.len(), || self.probes(&refs));
        let results = self.fetch(cx, &refs, depth)?;
        span.record_count("rows", results.iter().map(Vec::len).sum());
        for (parent, rows) in parents.iter_mut().zip(results) {
            let stored: K::Stored<C> = K::from_rows(rows);
            parent.loaded_mut().set(self.name, Arc::new(stored));
        }
        Ok(())
    }
}

impl<P: Table, C: Table + Clone, K: Cardinality> Relation<P, C, K> {
    pub(crate) fn check_level(&self, cx: &LoadCx<'_>, keys: usize, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::DepthExceeded {
                relation: format!("{}.{}", P::NAME, self.name),
                max: MAX_DEPTH,
            });
        }
        if keys > cx.db.fan_out_max_keys && !self.allow_fan_out {
            return Err(Error::FanOutExceeded {
                relation: format!("{}.{}", P::NAME, self.name),
                keys,
                max: cx.db.fan_out_max_keys,
            });
        }
        Ok(())
    }

    /// How many distinct keys a level looks up for `parents` (for its trace span): the
    /// foreign-key values of a `belongs_to`, the parents' ids otherwise.
    fn probes(&self, parents: &[&Doc<P>]) -> usize {
        let mut keys: Vec<u64> = match &self.path {
            Path::Parent { column } => parents
                .iter()
                .filter_map(|p| p.value().column_id(*column))
                .collect(),
            Path::Children { .. } | Path::Through(_) => {
                parents.iter().map(|p| p.id.get()).collect()
            }
        };
        keys.sort_unstable();
        keys.dedup();
        keys.len()
    }

    /// Row `id` of the target table as this relation sees it.
    pub(crate) fn read(&self, cx: &LoadCx<'_>, info: &TableInfo, id: u64) -> Result<Found<C>> {
        let doc = cx
            .tx
            .with_row(C::NAME, id, |b| decode_doc::<C>(info, id, b))?;
        Ok(match doc {
            None => Found::Missing,
            Some(d) if d.deleted_at().is_some() && !self.include_deleted => Found::Hidden,
            Some(d) if !cx.view.visible(&d, &mut Env::new(cx.tx, cx.db, cx.view))? => Found::Hidden,
            Some(d) => Found::Row(d),
        })
    }

    pub(crate) fn keep(&self, doc: &Doc<C>, env: &mut Env<'_>) -> Result<bool> {
        match &self.filter {
            None => Ok(true),
            Some(f) => f.eval(doc, env),
        }
    }

    /// Orders, offsets and limits one parent's rows.
    pub(crate) fn shape(&self, mut rows: Vec<Doc<C>>) -> Result<Vec<Doc<C>>> {
        if !self.order.is_empty() {
            let mut keyed = Vec::with_capacity(rows.len());
            for doc in rows {
                let mut keys = Vec::with_capacity(self.order.len());
                for o in &self.order {
                    let mut k = Vec::new();
                    column_key(&doc, o.column(), &mut k).map_err(|e| Error::Encode {
                        table: C::NAME,
                        column: o.name(),
                        detail: e.detail,
                    })?;
                    keys.push(k);
                }
                keyed.push((keys, doc));
            }
            let desc: Vec<bool> = self.order.iter().map(|o| o.is_desc()).collect();
            keyed.sort_by(|a, b| compare_keyed(&desc, (&a.0, a.1.id.get()), (&b.0, b.1.id.get())));
            rows = keyed.into_iter().map(|(_, d)| d).collect();
        }
        let rows = rows.into_iter().skip(self.offset);
        Ok(match self.limit {
            Some(n) => rows.take(n).collect(),
            None => rows.collect(),
        })
    }

    /// Loads nested relations on `rows` (one batch for the whole level).
    pub(crate) fn nested(
        &self,
        cx: &mut LoadCx<'_>,
        rows: &mut [Doc<C>],
        depth: usize,
    ) -> Result<()> {
        for w in &self.withs {
            w.load_into(cx, rows, depth + 1)?;
        }
        Ok(())
    }

    /// The rows of this relation for each parent, in parent order.
    pub(crate) fn fetch(
        &self,
        cx: &mut LoadCx<'_>,
        parents: &[&Doc<P>],
        depth: usize,
    ) -> Result<Vec<Vec<Doc<C>>>> {
        let info = cx.db.info::<C>()?;
        let mut env = Env::new(cx.tx, cx.db, cx.view);
        match &self.path {
            Path::Parent { column } => {
                let keys: Vec<Option<u64>> = parents
                    .iter()
                    .map(|p| p.value().column_id(*column))
                    .collect();
                let mut distinct: Vec<u64> = keys.iter().flatten().copied().collect();
                distinct.sort_unstable();
                distinct.dedup();
                self.check_level(cx, distinct.len(), depth)?;
                let mut found: Vec<Doc<C>> = Vec::with_capacity(distinct.len());
                let mut missing = Vec::new();
                let mut hidden = Vec::new();
                for &id in &distinct {
                    match self.read(cx, info, id)? {
                        Found::Row(doc) => found.push(doc),
                        Found::Hidden => hidden.push(id),
                        Found::Missing => missing.push(id),
                    }
                }
                self.nested(cx, &mut found, depth)?;
                let by_id: HashMap<u64, Doc<C>> =
                    found.into_iter().map(|d| (d.id.get(), d)).collect();
                let parent_info = cx.db.info::<P>()?;
                let fk_nullable = parent_info.schema.columns[*column].nullable;
                let mut out = Vec::with_capacity(parents.len());
                for (p, key) in parents.iter().zip(&keys) {
                    match key {
                        None => out.push(Vec::new()),
                        Some(id) => match by_id.get(id) {
                            Some(doc) => out.push(vec![doc.clone()]),
                            None if fk_nullable || hidden.contains(id) => out.push(Vec::new()),
                            None => {
                                return Err(Error::DanglingReference {
                                    table: P::NAME,
                                    id: p.id.get(),
                                    column: parent_info.schema.columns[*column].name,
                                    target: C::NAME,
                                    target_id: *id,
                                });
                            }
                        },
                    }
                }
                Ok(out)
            }
            Path::Children { column, nullable } => {
                let index = child_index(info, *column)?;
                let table = &info.index_tables[index];
                let mut distinct: Vec<u64> = parents.iter().map(|p| p.id.get()).collect();
                distinct.sort_unstable();
                distinct.dedup();
                self.check_level(cx, distinct.len(), depth)?;
                // parent id -> positions of its rows in `all`
                let mut all: Vec<Doc<C>> = Vec::new();
                let mut groups: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
                for &pid in &distinct {
                    // In id order whichever index served the probe (its later columns
                    // would order them otherwise).
                    let mut ids = probe(&cx.tx, table, &fk_prefix(pid, *nullable))?;
                    ids.sort_unstable();
                    let mut rows = Vec::with_capacity(ids.len());
                    for id in ids {
                        let doc = match self.read(cx, info, id)? {
                            Found::Row(doc) => doc,
                            Found::Hidden => continue,
                            Found::Missing => {
                                return Err(storage::corrupt(
                                    C::NAME,
                                    Some(id),
                                    "an index entry points to a row that does not exist",
                                ));
                            }
                        };
                        if self.keep(&doc, &mut env)? {
                            rows.push(doc);
                        }
                    }
                    let rows = self.shape(rows)?;
                    let slots = groups.entry(pid).or_default();
                    for doc in rows {
                        slots.push(all.len());
                        all.push(doc);
                    }
                }
                self.nested(cx, &mut all, depth)?;
                let mut all: Vec<Option<Doc<C>>> = all.into_iter().map(Some).collect();
                let mut out: Vec<Vec<Doc<C>>> = Vec::with_capacity(parents.len());
                // A parent listed twice gets a copy of what its first listing got.
                let mut first_at: HashMap<u64, usize> = HashMap::new();
                for p in parents {
                    let pid = p.id.get();
                    if let Some(&at) = first_at.get(&pid) {
                        let copy = out[at].clone();
                        out.push(copy);
                        continue;
                    }
                    first_at.insert(pid, out.len());
                    let slots = groups.get(&pid).map(Vec::as_slice).unwrap_or_default();
                    let rows: Vec<Doc<C>> = slots.iter().filter_map(|&i| all[i].take()).collect();
                    out.push(rows);
                }
                Ok(out)
            }
            Path::Through(join) => {
                let join_info = cx.db.info_by_type(join.type_id, join.name)?;
                let index = child_index(join_info, join.from)?;
                let table = &join_info.index_tables[index];
                let mut distinct: Vec<u64> = parents.iter().map(|p| p.id.get()).collect();
                distinct.sort_unstable();
                distinct.dedup();
                self.check_level(cx, distinct.len(), depth)?;
                // parent id -> target ids in join-row order
                let mut targets_of: HashMap<u64, Vec<u64>> = HashMap::new();
                let mut all_targets: Vec<u64> = Vec::new();
                for &pid in &distinct {
                    // Join-row (id) order whichever index served the probe.
                    let mut join_ids = probe(&cx.tx, table, &fk_prefix(pid, join.from_nullable))?;
                    join_ids.sort_unstable();
                    let mut targets = Vec::with_capacity(join_ids.len());
                    for jid in join_ids {
                        if let Some(t) = (join.target_of)(cx, jid, join.to)? {
                            targets.push(t);
                            all_targets.push(t);
                        }
                    }
                    targets_of.insert(pid, targets);
                }
                all_targets.sort_unstable();
                all_targets.dedup();
                self.check_level(cx, all_targets.len(), depth)?;
                let mut found: Vec<Doc<C>> = Vec::with_capacity(all_targets.len());
                for &id in &all_targets {
                    if let Found::Row(doc) = self.read(cx, info, id)?
                        && self.keep(&doc, &mut env)?
                    {
                        found.push(doc);
                    }
                }
                self.nested(cx, &mut found, depth)?;
                let by_id: HashMap<u64, Doc<C>> =
                    found.into_iter().map(|d| (d.id.get(), d)).collect();
                let mut out = Vec::with_capacity(parents.len());
                for p in parents {
                    let rows: Vec<Doc<C>> = targets_of
                        .get(&p.id.get())
                        .map(|ts| ts.iter().filter_map(|t| by_id.get(t).cloned()).collect())
                        .unwrap_or_default();
                    out.push(self.shape(rows)?);
                }
                Ok(out)
            }
        }
    }
}
