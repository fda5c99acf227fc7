//! The checks a table's [`Rules`](crate::Rules) make on writes: the new row of an insert, the
//! old and new row of an update, the root row of a delete. Each runs before anything of the
//! call is written; cascades are the schema's, not the viewer's, and are not checked.

use super::tx::WriteTx;
use crate::error::{Error, Result};
use crate::model::{Doc, Table};
use crate::query::filter::Env;
use crate::query::rules::WriteOp;
use crate::storage::TxRef;

impl WriteTx {
    /// Writes (and reads) as the system from here on: tables' rules do not apply to the
    /// rest of this transaction. For seeding, maintenance and jobs of the application's own —
    /// say it only where no viewer is behind the write.
    pub fn skip_rules(&mut self) -> &mut Self {
        self.view = self.view.as_system();
        self
    }

    /// The viewer this transaction writes as ([`Db::write_as`](crate::Db::write_as)), if it
    /// has one of type `V` — for hooks, which run in the same transaction.
    pub fn viewer<V: 'static>(&self) -> Option<&V> {
        self.view.viewer_of::<V>()
    }

    /// Whether writes of `table` are checked (it has rules and the writer is not the system).
    pub(crate) fn guards(&self, table: &str) -> bool {
        self.view.guards(table)
    }

    pub(crate) fn guard_insert<T: Table>(&self, row: &T) -> Result<()> {
        if !self.guards(T::NAME) {
            return Ok(());
        }
        self.view.check_write::<T>(WriteOp::Insert, None, Some(row))
    }

    /// A row the viewer may not read is, to it, a row that does not exist.
    fn guard_visible<T: Table>(&self, doc: &Doc<T>) -> Result<()> {
        let mut env = Env::new(TxRef::Write(&self.store), &self.db, &self.view);
        if self.view.visible(doc, &mut env)? {
            Ok(())
        } else {
            Err(Error::NotFound {
                table: T::NAME,
                id: doc.id.get(),
            })
        }
    }

    pub(crate) fn guard_update<T: Table>(&self, old: &Doc<T>, new: &T) -> Result<()> {
        if !self.guards(T::NAME) {
            return Ok(());
        }
        self.guard_visible(old)?;
        self.view
            .check_write::<T>(WriteOp::Update, Some(old), Some(new))
    }

    /// Checks the delete (or undelete) of row `id` of `T`, the root of what it removes.
    pub(crate) fn guard_delete<T: Table>(&self, id: u64) -> Result<()> {
        if !self.guards(T::NAME) {
            return Ok(());
        }
        let info = self.db.info::<T>()?;
        let (_, doc) = self.load_row::<T>(info, id)?;
        self.guard_visible(&doc)?;
        self.view
            .check_write::<T>(WriteOp::Delete, Some(&doc), None)
    }
}
