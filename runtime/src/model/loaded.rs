//! Relations loaded on a row: what `with` and `load_into` leave on a [`Doc`](crate::Doc).

use std::any::Any;
use std::sync::Arc;

/// Relations loaded on a row, by relation name.
#[derive(Clone, Default)]
pub(crate) struct Loaded {
    entries: Vec<(&'static str, Arc<dyn Any + Send + Sync>)>,
}

impl Loaded {
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
        self.entries.iter().map(|(n, _)| *n).collect()
    }
}

impl PartialEq for Loaded {
    /// Two rows are equal on their data; what was loaded beside them does not count.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
