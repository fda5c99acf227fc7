//! Ordering keys: a column and a direction.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use crate::model::Col;

/// One ordering key: a column and a direction. Built with [`Col::asc`] / [`Col::desc`].
pub struct Order<T> {
    pub(crate) column: usize,
    pub(crate) name: &'static str,
    pub(crate) desc: bool,
    pub(crate) _table: PhantomData<fn() -> T>,
}

impl<T> Clone for Order<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Order<T> {}
impl<T> fmt::Debug for Order<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.name,
            if self.desc { "desc" } else { "asc" }
        )
    }
}

impl<T> Order<T> {
    pub(crate) fn column(&self) -> usize {
        self.column
    }
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
    pub(crate) fn is_desc(&self) -> bool {
        self.desc
    }
}

impl<T, C> Col<T, C> {
    /// Ascending order on this column.
    pub fn asc(&self) -> Order<T> {
        Order {
            column: self.position(),
            name: self.name(),
            desc: false,
            _table: PhantomData,
        }
    }
    /// Descending order on this column.
    pub fn desc(&self) -> Order<T> {
        Order {
            column: self.position(),
            name: self.name(),
            desc: true,
            _table: PhantomData,
        }
    }
}

impl<T> Hash for Order<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.column.hash(state);
        self.desc.hash(state);
    }
}

/// Compares two rows by their encoded order keys, each ascending or descending as `desc`
/// says; rows with equal keys compare by id in the direction of the last key (the order an
/// index read forwards or backwards gives them). The one comparison of the in-memory sort of
/// a query and of a relation's per-parent order.
pub(crate) fn compare_keyed(desc: &[bool], a: (&[Vec<u8>], u64), b: (&[Vec<u8>], u64)) -> Ordering {
    for (i, &d) in desc.iter().enumerate() {
        let o = a.0[i].cmp(&b.0[i]);
        let o = if d { o.reverse() } else { o };
        if o.is_ne() {
            return o;
        }
    }
    let by_id = a.1.cmp(&b.1);
    if desc.last() == Some(&true) {
        by_id.reverse()
    } else {
        by_id
    }
}
