//! The undo log that makes one call of a write transaction all-or-nothing inside it.
//!
//! A write transaction commits or rolls back as a whole, but a single call inside it (a bulk
//! update, an undelete, a cascade with hooks) can fail after it has written some of its
//! change, and the caller may handle the error and go on. While a [`Mark`] is open the store
//! records, before each write, what the key held; rolling back to the mark writes those
//! values back in reverse order. Outside marks nothing is recorded, so single-row writes that
//! check everything before they write pay nothing for it.

use super::engine::Space;

/// An owned [`Space`], for entries that outlive the write that made them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpaceBuf {
    Rows(String),
    Index(String),
    Catalog,
    Seq,
    Jobs,
}

impl SpaceBuf {
    pub(crate) fn of(space: Space<'_>) -> SpaceBuf {
        match space {
            Space::Rows(n) => SpaceBuf::Rows(n.to_string()),
            Space::Index(n) => SpaceBuf::Index(n.to_string()),
            Space::Catalog => SpaceBuf::Catalog,
            Space::Seq => SpaceBuf::Seq,
            Space::Jobs => SpaceBuf::Jobs,
        }
    }

    pub(crate) fn space(&self) -> Space<'_> {
        match self {
            SpaceBuf::Rows(n) => Space::Rows(n),
            SpaceBuf::Index(n) => Space::Index(n),
            SpaceBuf::Catalog => Space::Catalog,
            SpaceBuf::Seq => Space::Seq,
            SpaceBuf::Jobs => Space::Jobs,
        }
    }
}

/// What a key held before a write changed it (`None`: it was absent), handed back on rollback.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) space: SpaceBuf,
    pub(crate) key: Vec<u8>,
    pub(crate) old: Option<Vec<u8>>,
}

/// One recorded write: its space (a slot in `UndoLog::spaces`) and key (a range of
/// `UndoLog::keys`), so recording allocates nothing but a replaced value.
#[derive(Debug)]
struct Recorded {
    space: usize,
    key: std::ops::Range<usize>,
    old: Option<Vec<u8>>,
}

/// A point to roll back to; from `WriteStore::mark`.
#[derive(Debug)]
#[must_use = "a mark is released or rolled back to"]
pub(crate) struct Mark {
    pub(crate) position: usize,
}

/// The entries recorded since the outermost open mark. A bulk call records one entry per
/// key it writes, hundreds of thousands for a large `insert_many`: keys share one buffer and
/// space names are kept once, so recording costs no allocation per write.
#[derive(Debug, Default)]
pub(crate) struct UndoLog {
    open: usize,
    entries: Vec<Recorded>,
    keys: Vec<u8>,
    spaces: Vec<SpaceBuf>,
}

impl UndoLog {
    /// Whether writes must be recorded now.
    #[inline]
    pub(crate) fn recording(&self) -> bool {
        self.open > 0
    }

    pub(crate) fn mark(&mut self) -> Mark {
        self.open += 1;
        Mark {
            position: self.entries.len(),
        }
    }

    pub(crate) fn record(&mut self, space: Space<'_>, key: &[u8], old: Option<Vec<u8>>) {
        // Few distinct spaces per call, and runs of writes to the same one: search from the end.
        let slot = match self.spaces.iter().rposition(|s| s.space() == space) {
            Some(slot) => slot,
            None => {
                self.spaces.push(SpaceBuf::of(space));
                self.spaces.len() - 1
            }
        };
        let start = self.keys.len();
        self.keys.extend_from_slice(key);
        self.entries.push(Recorded {
            space: slot,
            key: start..self.keys.len(),
            old,
        });
    }

    /// Closes `mark`, keeping its entries while an outer mark may still roll them back.
    pub(crate) fn release(&mut self, mark: Mark) {
        debug_assert!(mark.position <= self.entries.len());
        self.close();
    }

    /// Closes `mark` and hands back the entries recorded since it, newest first.
    pub(crate) fn take_since(&mut self, mark: Mark) -> Vec<Entry> {
        let at = mark.position.min(self.entries.len());
        let undone: Vec<Entry> = self
            .entries
            .drain(at..)
            .rev()
            .map(|r| Entry {
                space: self.spaces[r.space].clone(),
                key: self.keys[r.key].to_vec(),
                old: r.old,
            })
            .collect();
        let keys_at = self.entries.last().map_or(0, |r| r.key.end);
        self.keys.truncate(keys_at);
        self.close();
        undone
    }

    fn close(&mut self) {
        self.open = self.open.saturating_sub(1);
        if self.open == 0 {
            self.entries.clear();
            self.keys.clear();
            self.spaces.clear();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn keys(entries: &[Entry]) -> Vec<(SpaceBuf, Vec<u8>, Option<Vec<u8>>)> {
        entries
            .iter()
            .map(|e| (e.space.clone(), e.key.clone(), e.old.clone()))
            .collect()
    }

    #[test]
    fn nested_marks_hand_back_their_own_entries_newest_first() {
        let mut log = UndoLog::default();
        assert!(!log.recording());
        let outer = log.mark();
        log.record(Space::Rows("users"), &[1], None);
        log.record(Space::Index("users#by_email"), b"ann", Some(Vec::new()));
        let inner = log.mark();
        log.record(Space::Rows("users"), &[2, 2], Some(vec![9]));
        log.record(Space::Jobs, &[3, 3, 3], None);
        let undone = log.take_since(inner);
        assert_eq!(
            keys(&undone),
            [
                (SpaceBuf::Jobs, vec![3, 3, 3], None),
                (SpaceBuf::Rows("users".into()), vec![2, 2], Some(vec![9])),
            ]
        );
        assert!(log.recording(), "the outer mark is still open");
        log.record(Space::Seq, &[4], None);
        let undone = log.take_since(outer);
        assert_eq!(
            keys(&undone),
            [
                (SpaceBuf::Seq, vec![4], None),
                (
                    SpaceBuf::Index("users#by_email".into()),
                    b"ann".to_vec(),
                    Some(Vec::new())
                ),
                (SpaceBuf::Rows("users".into()), vec![1], None),
            ]
        );
        assert!(!log.recording());
    }

    #[test]
    fn a_released_inner_mark_stays_undoable_by_the_outer_one() {
        let mut log = UndoLog::default();
        let outer = log.mark();
        let inner = log.mark();
        log.record(Space::Rows("t"), &[7], None);
        log.release(inner);
        let undone = log.take_since(outer);
        assert_eq!(keys(&undone), [(SpaceBuf::Rows("t".into()), vec![7], None)]);
        let again = log.mark();
        assert!(
            log.take_since(again).is_empty(),
            "closing the last mark empties the log"
        );
    }
}
