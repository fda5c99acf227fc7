//! Read transactions.

use std::fmt;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::error::Result;
use crate::model::{Doc, Id, KeyArg, Table, UniqueIndex};
use crate::query::Query;
use crate::query::read::read_methods;
use crate::query::relation::{Cardinality, Relation};
use crate::query::rules::Viewing;
use crate::storage::{ReadStore, TxStats};

/// A read transaction: a consistent snapshot. Begin one with [`Db::read`](crate::Db::read).
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// struct Note { text: String }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder().table::<Note>().in_memory()?;
/// let id = db.write(|tx| tx.insert(Note { text: "v1".into() }))?;
/// let snapshot = db.read()?;
/// db.write(|tx| tx.patch(id, |n| n.text = "v2".into()))?;
/// assert_eq!(snapshot.get(id)?.unwrap().text, "v1"); // unaffected by the later write
/// assert_eq!(db.read()?.get(id)?.unwrap().text, "v2");
/// # Ok(()) }
/// ```
pub struct ReadTx {
    db: Arc<Catalog>,
    store: ReadStore,
    view: Viewing,
}

impl fmt::Debug for ReadTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadTx").finish_non_exhaustive()
    }
}

impl ReadTx {
    pub(crate) fn new(db: Arc<Catalog>, store: ReadStore, view: Viewing) -> Self {
        ReadTx { db, store, view }
    }

    /// The viewer this transaction reads as ([`Db::read_as`](crate::Db::read_as)), if it has
    /// one of type `V`.
    pub fn viewer<V: 'static>(&self) -> Option<&V> {
        self.view.viewer_of::<V>()
    }

    /// Reads as the system: tables' [`Rules`](crate::Rules) do not apply to this transaction
    /// (for maintenance, exports, jobs of the application's own). Say it only where no viewer
    /// is behind the read.
    pub fn skip_rules(mut self) -> Self {
        self.view = self.view.as_system();
        self
    }

    read_methods!(Read);
}
