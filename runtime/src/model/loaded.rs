//! Relations loaded on a row: what `with` and `load_into` leave on a [`Doc`](crate::Doc).

use std::any::Any;
use std::sync::Arc;

/// Relations loaded on a row, by relation name.
#[derive(Clone, Default)]
pub(crate) struct Loaded {
    entries: Vec<(&'static str, Arc<dyn Any + Send + Sync>)>,
    /// Relation counts (`with_count`), by relation name.
    counts: Vec<(&'static str, usize)>,
}

impl Loaded {
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.counts.is_empty()
    }
    pub(crate) fn set_count(&mut self, name: &'static str, n: usize) {
        match self.counts.iter_mut().find(|(c, _)| *c == name) {
            Some(slot) => slot.1 = n,
            None => self.counts.push((name, n)),
        }
    }
    pub(crate) fn count(&self, name: &str) -> Option<usize> {
        self.counts
            .iter()
            .find(|(c, _)| *c == name)
            .map(|(_, n)| *n)
    }
    pub(crate) fn set(&mut self, name: &'static str, value: Arc<dyn Any + Send + Sync>) {
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name, value)),
        }
    }
    pub(crate) fn get(&self, name: &str) -> Option<&(dyn Any + Send + Sync)> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }
    pub(crate) fn names(&self) -> Vec<&'static str> {
        let counted = self.counts.iter().map(|(n, _)| *n);
        self.entries
            .iter()
            .map(|(n, _)| *n)
            .chain(counted)
            .collect()
    }
}

impl PartialEq for Loaded {
    /// Two rows are equal on their data; what was loaded beside them does not count.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
