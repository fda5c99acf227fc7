//! The write transaction: its state, commit and roll back, ids and counters.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::registry::{HookSet, TableOps};
use crate::catalog::Catalog;
use crate::error::Result;
use crate::model::{Doc, Id, KeyArg, Table, UniqueIndex};
use crate::query::Query;
use crate::query::read::read_methods;
use crate::query::relation::{Cardinality, Relation};
use crate::storage::{Durability, Source, TxStats, WriteStore};

/// A write transaction. Get one from [`Db::write`](crate::Db::write) (commits when the closure
/// returns `Ok`) or [`Db::begin_write`](crate::Db::begin_write) (commit with
/// [`commit`](WriteTx::commit); dropped means rolled back).
///
/// Every write keeps every index exact and checks unique indexes and foreign keys before it
/// changes anything: a write refused by a check leaves the transaction as it was before the
/// call (a hook's error aside: see the [hooks](crate::hooks) docs). A write that fails in
/// storage ([`Error::Storage`](crate::Error::Storage)) may have written part of its change, so
/// the transaction can then no longer commit: `commit` rolls it back and returns
/// [`Error::TransactionFailed`](crate::Error::TransactionFailed).
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// struct Counter { #[unique] name: String, n: u64 }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder().table::<Counter>().in_memory()?;
/// let mut tx = db.begin_write()?;
/// let id = tx.insert(Counter { name: "hits".into(), n: 0 })?;
/// tx.patch(id, |c| c.n += 1)?;
/// // A refused write changes nothing and the transaction goes on.
/// assert!(tx.insert(Counter { name: "hits".into(), n: 9 }).is_err());
/// tx.commit()?;
/// assert_eq!(db.read()?.get(id)?.unwrap().n, 1);
/// # Ok(()) }
/// ```
pub struct WriteTx {
    pub(crate) db: Arc<Catalog>,
    pub(crate) setup: Arc<WriteSetup>,
    pub(crate) store: WriteStore,
    /// Next id per table slot, loaded on first insert and written back at commit.
    next_ids: HashMap<usize, u64>,
    pub(crate) hooks_on: bool,
    pub(crate) hook_depth: usize,
}

/// What writes need beside the catalog: the registered hooks, and the per-table operations
/// cascades dispatch to by table position.
#[derive(Default)]
pub(crate) struct WriteSetup {
    pub(crate) hooks: HookSet,
    pub(crate) ops: Vec<TableOps<WriteTx>>,
}

impl fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTx").finish_non_exhaustive()
    }
}

impl WriteTx {
    /// Begins the write transaction (waiting while another one is open).
    pub(crate) fn begin(db: &Arc<Catalog>, setup: &Arc<WriteSetup>) -> Result<Self> {
        let store = WriteStore::begin(&db.engine)?;
        Ok(WriteTx {
            db: db.clone(),
            setup: setup.clone(),
            store,
            next_ids: HashMap::new(),
            hooks_on: true,
            hook_depth: 0,
        })
    }

    /// Sets how durable the commit is; the default is [`Durability::Immediate`].
    pub fn set_durability(&mut self, durability: Durability) -> Result<()> {
        self.store.set_durability(durability)
    }

    /// Makes every write of the transaction permanent.
    pub fn commit(mut self) -> Result<()> {
        for (&slot, &next) in &self.next_ids {
            self.store
                .set_counter(self.db.tables[slot].schema.name, next - 1)?;
        }
        self.store.commit()
    }

    /// Discards every write of the transaction (what dropping it does too).
    pub fn abort(self) -> Result<()> {
        self.store.abort()
    }

    read_methods!(Write);

    /// Runs `f` with hooks switched off: its writes run no hook (for migrations, repairs and
    /// system work).
    pub fn without_hooks<R>(&mut self, f: impl FnOnce(&mut WriteTx) -> R) -> R {
        let was = std::mem::replace(&mut self.hooks_on, false);
        let out = f(self);
        self.hooks_on = was;
        out
    }

    pub(crate) fn next_id(&mut self, slot: usize) -> Result<u64> {
        let next = match self.next_ids.get(&slot) {
            Some(&n) => n,
            None => {
                let name = self.db.tables[slot].schema.name;
                self.store.counter(name)? + 1
            }
        };
        self.next_ids.insert(slot, next + 1);
        Ok(next)
    }

    /// A fresh token for a soft delete (shared by every row it reaches).
    pub(crate) fn next_token(&mut self) -> Result<u64> {
        const KEY: &str = "__redorm_delete_tokens";
        let token = self.store.counter(KEY)? + 1;
        self.store.set_counter(KEY, token)?;
        Ok(token)
    }
}
