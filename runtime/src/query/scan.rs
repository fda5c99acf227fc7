//! One probe of an index, read in batches: its bounds from the plan, and a scan whose bounds
//! move past what has been read.

use std::collections::VecDeque;
use std::ops::Bound;

use super::plan::ColRange;
use crate::error::Result;
use crate::storage::{self, Source, TxRef};

pub(crate) fn succ(mut k: Vec<u8>) -> Option<Vec<u8>> {
    let up = storage::prefix_upper_bound(&k)?;
    k.clear();
    k.extend(up);
    Some(k)
}

/// Full-key bounds of one probe: `None` on either side means the probe is empty.
/// A probe's bounds; `None` on a side means the probe reads nothing.
pub(crate) type ProbeBounds = (Option<Bound<Vec<u8>>>, Option<Bound<Vec<u8>>>);

pub(crate) fn probe_bounds(prefix: &[u8], range: &ColRange) -> ProbeBounds {
    let join = |k: &[u8]| {
        let mut v = prefix.to_vec();
        v.extend_from_slice(k);
        v
    };
    let lo = match &range.lo {
        None => Some(Bound::Included(prefix.to_vec())),
        Some((k, true)) => Some(Bound::Included(join(k))),
        Some((k, false)) => succ(join(k)).map(Bound::Included),
    };
    let hi = match &range.hi {
        None => Some(succ(prefix.to_vec()).map_or(Bound::Unbounded, Bound::Excluded)),
        Some((k, true)) => Some(succ(join(k)).map_or(Bound::Unbounded, Bound::Excluded)),
        Some((k, false)) => Some(Bound::Excluded(join(k))),
    };
    (lo, hi)
}

pub(crate) fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

pub(crate) const BATCH: usize = 128;

/// One probe's scan, read in batches; its bounds move past what has been read.
pub(crate) struct ProbeScan {
    pub(crate) prefix_len: usize,
    pub(crate) lo: Bound<Vec<u8>>,
    pub(crate) hi: Bound<Vec<u8>>,
    pub(crate) buf: VecDeque<Vec<u8>>,
    pub(crate) exhausted: bool,
}

impl ProbeScan {
    pub(crate) fn fill(
        &mut self,
        tx: TxRef<'_>,
        table: &str,
        reverse: bool,
        batch: usize,
    ) -> Result<()> {
        if !self.buf.is_empty() || self.exhausted {
            return Ok(());
        }
        let mut got = 0;
        let buf = &mut self.buf;
        tx.scan_index(
            table,
            as_ref(&self.lo),
            as_ref(&self.hi),
            reverse,
            &mut |k| {
                buf.push_back(k.to_vec());
                got += 1;
                Ok(got < batch)
            },
        )?;
        if got < batch {
            self.exhausted = true;
        }
        if let Some(last) = self.buf.back() {
            if reverse {
                self.hi = Bound::Excluded(last.clone());
            } else {
                self.lo = Bound::Excluded(last.clone());
            }
        }
        Ok(())
    }
}

/// Calls `f` with each key of every probe of an index plan in turn (each probe's keys in key
/// order, reversed when `reverse`), until `f` returns `false`.
pub(crate) fn scan_probes(
    tx: TxRef<'_>,
    table: &str,
    probes: &[Vec<u8>],
    range: &ColRange,
    reverse: bool,
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    for probe in probes {
        let (lo, hi) = probe_bounds(probe, range);
        let Some((lo, hi)) = lo.zip(hi) else { continue };
        let mut go = true;
        tx.scan_index(table, as_ref(&lo), as_ref(&hi), reverse, &mut |k| {
            go = f(k)?;
            Ok(go)
        })?;
        if !go {
            break;
        }
    }
    Ok(())
}
