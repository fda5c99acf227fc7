//! Running a plan: index probes and table scans read in batches, post-filters, merging
//! and sorting, offsets and cursor positions; and the streaming iterator.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ops::Bound;

use super::cursor::*;
use super::filter::{Env, column_key};
use super::order::compare_keyed;
use super::plan::*;
use super::rules::Viewing;
use super::scan::{BATCH, ProbeScan, probe_bounds, scan_probes};
use crate::catalog::{Catalog, TableInfo, decode_doc};
use crate::error::{Error, Result};
use crate::model::Visibility;
use crate::model::column_name;
use crate::model::{Doc, Table};
use crate::storage::TxRef;
use crate::storage::{self, Source};

pub(crate) enum RowSource<T> {
    Rows {
        /// Where the next read starts (exclusive once rows were read), in reading direction.
        next: Bound<u64>,
        /// The far end of the read (from the filter's id range).
        end: Bound<u64>,
        buf: VecDeque<Doc<T>>,
        exhausted: bool,
    },
    Index {
        table: String,
        scans: Vec<ProbeScan>,
        current: usize,
    },
    Sorted(VecDeque<(Vec<u8>, Doc<T>)>),
}

/// The row [`Exec::next`] returned last, as much as a cursor needs.
pub(crate) enum Last {
    None,
    /// Read from the table: its id.
    Id(u64),
    /// Read from an index (or a sort): the key, whose part after `prefix_len` is the position.
    Key {
        probe: u32,
        key: Vec<u8>,
        prefix_len: usize,
    },
}

/// Runs a plan, yielding matching rows.
pub(crate) struct Exec<'tx, T> {
    pub(crate) last: Last,
    /// Entries read per storage scan (smaller than [`BATCH`] when the caller needs few rows).
    pub(crate) batch: usize,
    pub(crate) tx: TxRef<'tx>,
    pub(crate) info: &'tx TableInfo,
    pub(crate) plan: Plan,
    pub(crate) source: RowSource<T>,
    /// Evaluates post-filters (and remembers relation filters' answers).
    pub(crate) env: Env<'tx>,
    /// At most this many rows (or index entries) are examined (`max_scan`).
    pub(crate) budget: Option<usize>,
    pub(crate) examined: usize,
    /// `next` returned `None` because the budget ran out, not because the rows did.
    pub(crate) out_of_budget: bool,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<'tx, T: Table> Exec<'tx, T> {
    pub(crate) fn new(
        tx: TxRef<'tx>,
        db: &'tx Catalog,
        view: &'tx Viewing,
        info: &'tx TableInfo,
        plan: Plan,
        start: Option<Position>,
    ) -> Result<Self> {
        let source = match (&plan.access, &plan.sort) {
            (_, Some(_)) => RowSource::Sorted(VecDeque::new()),
            (Access::Rows, None) => {
                let (lo, hi) = plan.ids;
                let (from, end) = if plan.reverse { (hi, lo) } else { (lo, hi) };
                let next = match &start {
                    None => from,
                    Some(p) => {
                        let id: [u8; 8] =
                            p.key
                                .as_slice()
                                .try_into()
                                .map_err(|_| Error::InvalidCursor {
                                    table: T::NAME,
                                    reason: "its position does not decode".to_string(),
                                })?;
                        Bound::Excluded(u64::from_be_bytes(id))
                    }
                };
                RowSource::Rows {
                    next,
                    end,
                    buf: VecDeque::new(),
                    exhausted: false,
                }
            }
            (
                Access::Index {
                    index,
                    probes,
                    range,
                },
                None,
            ) => {
                let mut scans = Vec::with_capacity(probes.len());
                let mut current = 0;
                for (i, p) in probes.iter().enumerate() {
                    let (lo, hi) = probe_bounds(p, range);
                    let (Some(mut lo), Some(mut hi)) = (lo, hi) else {
                        scans.push(ProbeScan {
                            prefix_len: p.len(),
                            lo: Bound::Unbounded,
                            hi: Bound::Unbounded,
                            buf: VecDeque::new(),
                            exhausted: true,
                        });
                        continue;
                    };
                    let mut exhausted = false;
                    if let Some(pos) = &start {
                        let probe = pos.probe as usize;
                        let resume = || {
                            let mut k = p.clone();
                            k.extend_from_slice(&pos.key);
                            Bound::Excluded(k)
                        };
                        if plan.merge || i == probe {
                            if plan.reverse {
                                hi = tighter_hi(hi, resume());
                            } else {
                                lo = tighter_lo(lo, resume());
                            }
                        } else if (i < probe) != plan.reverse {
                            // Probes wholly before the cursor's in the reading direction.
                            exhausted = true;
                        }
                        current = if plan.merge { 0 } else { probe };
                    }
                    scans.push(ProbeScan {
                        prefix_len: p.len(),
                        lo,
                        hi,
                        buf: VecDeque::new(),
                        exhausted,
                    });
                }
                if plan.reverse && !plan.merge {
                    // Probes are in ascending key order; a descending read walks them backwards.
                    scans.reverse();
                    if let Some(pos) = &start {
                        current = scans.len().saturating_sub(1 + pos.probe as usize);
                        for s in scans.iter_mut().take(current) {
                            s.exhausted = true;
                            s.buf.clear();
                        }
                    }
                }
                RowSource::Index {
                    table: info.index_tables[*index].clone(),
                    scans,
                    current,
                }
            }
        };
        let mut exec = Exec {
            last: Last::None,
            batch: BATCH,
            budget: None,
            examined: 0,
            out_of_budget: false,
            tx,
            info,
            plan,
            source,
            env: Env::new(tx, db, view),
            _t: PhantomData,
        };
        if exec.plan.sort.is_some() {
            exec.sort_all(start)?;
        }
        Ok(exec)
    }

    /// Reads the row an index entry points at, if the query admits it.
    pub(crate) fn load(&mut self, id: u64) -> Result<Option<Doc<T>>> {
        let info = self.info;
        let doc = self
            .tx
            .with_row(T::NAME, id, |bytes| decode_doc::<T>(info, id, bytes))?;
        let Some(doc) = doc else {
            return Err(storage::corrupt(
                T::NAME,
                Some(id),
                "an index entry points to a row that does not exist",
            ));
        };
        self.admit(doc)
    }

    /// The row if its deletion state and the post-filters admit it.
    pub(crate) fn admit(&mut self, doc: Doc<T>) -> Result<Option<Doc<T>>> {
        if !self.plan.vis.admits(doc.deleted_at().is_some()) {
            return Ok(None);
        }
        if let Some(r) = &self.plan.residual
            && !r.eval(&doc, &mut self.env)?
        {
            return Ok(None);
        }
        Ok(Some(doc))
    }

    pub(crate) fn sort_key(
        &mut self,
        doc: &Doc<T>,
        keys: &[(usize, bool)],
    ) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::with_capacity(keys.len());
        for (c, _) in keys {
            let mut k = Vec::new();
            column_key(doc, *c, &mut k).map_err(|e| Error::Encode {
                table: T::NAME,
                column: column_name(&self.info.schema, *c),
                detail: e.detail,
            })?;
            out.push(k);
        }
        Ok(out)
    }

    /// Reads every candidate, sorts in memory, and keeps what comes after `start`.
    pub(crate) fn sort_all(&mut self, start: Option<Position>) -> Result<()> {
        let keys = self.plan.sort.clone().unwrap_or_default();
        let mut ids: Vec<u64> = Vec::new();
        let mut scanned: Vec<Doc<T>> = Vec::new();
        match &self.plan.access {
            Access::Rows => {
                let info = self.info;
                let (lo, hi) = self.plan.ids;
                self.tx
                    .scan_rows(T::NAME, lo, hi, false, &mut |id, bytes| {
                        scanned.push(decode_doc::<T>(info, id, bytes)?);
                        Ok(true)
                    })?;
            }
            Access::Index {
                index,
                probes,
                range,
            } => {
                let table = &self.info.index_tables[*index];
                scan_probes(self.tx, table, probes, range, false, &mut |k| {
                    ids.push(storage::row_id_of_key(T::NAME, k)?);
                    Ok(true)
                })?;
            }
        }
        let mut rows: Vec<(Vec<Vec<u8>>, u64, Doc<T>)> = Vec::with_capacity(ids.len());
        let mut admitted = Vec::with_capacity(ids.len() + scanned.len());
        for doc in scanned {
            if let Some(doc) = self.admit(doc)? {
                admitted.push(doc);
            }
        }
        for id in ids {
            if let Some(doc) = self.load(id)? {
                admitted.push(doc);
            }
        }
        for doc in admitted {
            let k = self.sort_key(&doc, &keys)?;
            rows.push((k, doc.id.get(), doc));
        }
        let desc: Vec<bool> = keys.iter().map(|(_, d)| *d).collect();
        let cmp = |a: (&[Vec<u8>], u64), b: (&[Vec<u8>], u64)| compare_keyed(&desc, a, b);
        rows.sort_by(|a, b| cmp((&a.0, a.1), (&b.0, b.1)));
        let start_key = match start {
            None => None,
            Some(p) => Some(decode_sort_position(&p.key, keys.len()).ok_or_else(|| {
                Error::InvalidCursor {
                    table: T::NAME,
                    reason: "its position does not decode".to_string(),
                }
            })?),
        };
        // Forwards: what comes after `start`; backwards: what comes before it, nearest first.
        let wanted = if self.plan.backward {
            Ordering::Less
        } else {
            Ordering::Greater
        };
        let mut out: VecDeque<(Vec<u8>, Doc<T>)> = rows
            .into_iter()
            .filter(|r| {
                start_key
                    .as_ref()
                    .is_none_or(|s| cmp((&r.0, r.1), (&s.0, s.1)) == wanted)
            })
            .map(|(k, id, doc)| (encode_sort_position(&k, id), doc))
            .collect();
        if self.plan.backward {
            out.make_contiguous().reverse();
        }
        self.source = RowSource::Sorted(out);
        Ok(())
    }

    /// Skips `n` matching rows. When nothing but the access path decides what matches (no
    /// post-filter, no soft-deleted rows to hide, no in-memory sort), the entries are stepped
    /// over without reading the rows; otherwise rows are read and dropped.
    pub(crate) fn skip(&mut self, mut n: usize) -> Result<()> {
        let entries_decide = self.plan.residual.is_none()
            && (!self.info.may_hold_deleted || self.plan.vis == Visibility::All)
            && !self.plan.merge;
        if entries_decide {
            match &mut self.source {
                RowSource::Rows {
                    next,
                    end,
                    buf,
                    exhausted,
                } => {
                    while n > 0 && buf.pop_front().is_some() {
                        n -= 1;
                    }
                    if n > 0 && !*exhausted {
                        let mut last = None;
                        let mut got = 0usize;
                        let reverse = self.plan.reverse;
                        let (lo, hi) = if reverse {
                            (*end, *next)
                        } else {
                            (*next, *end)
                        };
                        self.tx.scan_rows(T::NAME, lo, hi, reverse, &mut |id, _| {
                            last = Some(id);
                            got += 1;
                            Ok(got < n)
                        })?;
                        if got < n {
                            *exhausted = true;
                        }
                        if let Some(id) = last {
                            *next = Bound::Excluded(id);
                            self.last = Last::Id(id);
                        }
                    }
                    return Ok(());
                }
                RowSource::Index {
                    table,
                    scans,
                    current,
                } => {
                    let reverse = self.plan.reverse;
                    while n > 0 {
                        let Some(s) = scans.get_mut(*current) else {
                            return Ok(());
                        };
                        s.fill(self.tx, table, reverse, BATCH)?;
                        if s.buf.is_empty() {
                            *current += 1;
                            continue;
                        }
                        let take = n.min(s.buf.len());
                        s.buf.drain(..take);
                        n -= take;
                    }
                    return Ok(());
                }
                RowSource::Sorted(_) => {}
            }
        }
        while n > 0 && self.next()?.is_some() {
            n -= 1;
        }
        Ok(())
    }

    /// Where the row last returned by [`next`](Exec::next) stands, for a cursor.
    pub(crate) fn position(&self) -> Option<Position> {
        match &self.last {
            Last::None => None,
            Last::Id(id) => Some(Position {
                probe: 0,
                key: id.to_be_bytes().to_vec(),
            }),
            Last::Key {
                probe,
                key,
                prefix_len,
            } => Some(Position {
                probe: *probe,
                key: key.get(*prefix_len..).unwrap_or_default().to_vec(),
            }),
        }
    }

    /// The next matching row.
    pub(crate) fn next(&mut self) -> Result<Option<Doc<T>>> {
        loop {
            if !matches!(self.source, RowSource::Sorted(_))
                && self.budget.is_some_and(|b| self.examined >= b)
            {
                self.out_of_budget = true;
                return Ok(None);
            }
            let id = match &mut self.source {
                // Rows were read and filtered while sorting.
                RowSource::Sorted(rows) => {
                    return Ok(rows.pop_front().map(|(key, doc)| {
                        self.last = Last::Key {
                            probe: 0,
                            key,
                            prefix_len: 0,
                        };
                        doc
                    }));
                }
                RowSource::Rows {
                    next,
                    end,
                    buf,
                    exhausted,
                } => {
                    if buf.is_empty() && !*exhausted {
                        let mut got = 0;
                        let batch = self.batch;
                        let info = self.info;
                        let reverse = self.plan.reverse;
                        let (lo, hi) = if reverse {
                            (*end, *next)
                        } else {
                            (*next, *end)
                        };
                        self.tx
                            .scan_rows(T::NAME, lo, hi, reverse, &mut |id, bytes| {
                                buf.push_back(decode_doc::<T>(info, id, bytes)?);
                                got += 1;
                                Ok(got < batch)
                            })?;
                        if got < batch {
                            *exhausted = true;
                        }
                        if let Some(last) = buf.back() {
                            *next = Bound::Excluded(last.id.get());
                        }
                    }
                    self.batch = BATCH;
                    // Rows read from the table itself are decoded as they are scanned.
                    let Some(doc) = buf.pop_front() else {
                        return Ok(None);
                    };
                    self.examined += 1;
                    self.last = Last::Id(doc.id.get());
                    if let Some(doc) = self.admit(doc)? {
                        return Ok(Some(doc));
                    }
                    continue;
                }
                RowSource::Index {
                    table,
                    scans,
                    current,
                } => {
                    let reverse = self.plan.reverse;
                    let picked = if self.plan.merge {
                        for s in scans.iter_mut() {
                            s.fill(self.tx, table, reverse, self.batch)?;
                        }
                        let mut best: Option<usize> = None;
                        for (i, s) in scans.iter().enumerate() {
                            let Some(k) = s.buf.front() else { continue };
                            let better = match best {
                                None => true,
                                Some(b) => {
                                    let bs = &scans[b];
                                    let (Some(bk), suffix) = (bs.buf.front(), &k[s.prefix_len..])
                                    else {
                                        continue;
                                    };
                                    let o = suffix.cmp(&bk[bs.prefix_len..]);
                                    if reverse { o.is_gt() } else { o.is_lt() }
                                }
                            };
                            if better {
                                best = Some(i);
                            }
                        }
                        best
                    } else {
                        loop {
                            let Some(s) = scans.get_mut(*current) else {
                                break None;
                            };
                            s.fill(self.tx, table, reverse, self.batch)?;
                            if s.buf.is_empty() {
                                *current += 1;
                            } else {
                                break Some(*current);
                            }
                        }
                    };
                    self.batch = BATCH;
                    let Some(i) = picked else { return Ok(None) };
                    let n_scans = scans.len();
                    let s = &mut scans[i];
                    let Some(key) = s.buf.pop_front() else {
                        return Ok(None);
                    };
                    self.examined += 1;
                    let id = storage::row_id_of_key(T::NAME, &key)?;
                    // The probe number is the one in ascending order, whatever the direction.
                    let probe = if reverse && !self.plan.merge {
                        n_scans - 1 - i
                    } else {
                        i
                    };
                    self.last = Last::Key {
                        probe: u32::try_from(probe).unwrap_or(u32::MAX),
                        key,
                        prefix_len: s.prefix_len,
                    };
                    id
                }
            };
            if let Some(doc) = self.load(id)? {
                return Ok(Some(doc));
            }
        }
    }
}

pub(crate) fn tighter_lo(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    let key = |x: &Bound<Vec<u8>>| match x {
        Bound::Included(k) => Some((k.clone(), 0u8)),
        Bound::Excluded(k) => Some((k.clone(), 1u8)),
        Bound::Unbounded => None,
    };
    if key(&b) > key(&a) { b } else { a }
}

pub(crate) fn tighter_hi(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    let key = |x: &Bound<Vec<u8>>| match x {
        Bound::Included(k) => (0u8, k.clone(), 1u8),
        Bound::Excluded(k) => (0u8, k.clone(), 0u8),
        Bound::Unbounded => (1u8, Vec::new(), 0u8),
    };
    if key(&b) < key(&a) { b } else { a }
}

pub(crate) fn encode_sort_position(keys: &[Vec<u8>], id: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for k in keys {
        crate::codec::put_bytes(&mut out, k);
    }
    out.extend_from_slice(&id.to_be_bytes());
    out
}

pub(crate) fn decode_sort_position(mut bytes: &[u8], n: usize) -> Option<(Vec<Vec<u8>>, u64)> {
    let mut keys = Vec::with_capacity(n);
    for _ in 0..n {
        keys.push(
            crate::codec::get_bytes(&mut bytes, "sort key")
                .ok()?
                .to_vec(),
        );
    }
    let id: [u8; 8] = bytes.try_into().ok()?;
    Some((keys, u64::from_be_bytes(id)))
}
