//! The write transaction: its state, commit and roll back, ids and counters.

use std::collections::HashMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use super::group::GroupQueue;
use super::notify::{ChangeKind, ChangeRecord, Notify};
use super::registry::{HookSet, TableOps};
use crate::catalog::Catalog;
use crate::codec::row::RowHeader;
use crate::error::Result;
use crate::model::{Doc, Id, KeyArg, Table, UniqueIndex};
use crate::query::Query;
use crate::query::read::read_methods;
use crate::query::relation::{Cardinality, Relation};
use crate::query::rules::{RuleSet, Viewing};
use crate::storage::{Durability, Source, TxStats, WriteStore};

/// A write transaction. Get one from [`Db::write`](crate::Db::write) (commits when the closure
/// returns `Ok`) or [`Db::begin_write`](crate::Db::begin_write) (commit with
/// [`commit`](WriteTx::commit); dropped means rolled back).
///
/// Every write keeps every index exact and checks unique indexes and foreign keys. Each call
/// is all or nothing inside the transaction: a call refused part-way — a bulk
/// [`update`](WriteTx::update) or [`delete_many`](WriteTx::delete_many) whose later row fails,
/// an [`undelete`](WriteTx::undelete) whose restore clashes, a cascade or an insert a
/// [hook](crate::hooks) cancels — leaves the transaction exactly as it was before the call, so
/// a caller that handles the error can go on and commit none of it. A write that fails in
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
    /// The last id given out per table slot, loaded on first insert and written back at
    /// commit.
    last_ids: HashMap<usize, u64>,
    /// The latest `created_at` stamped per table slot, loaded on first insert: new rows get
    /// `max(now, this)`, so `created_at` never decreases with the id.
    last_created: HashMap<usize, i64>,
    pub(crate) hooks_on: bool,
    pub(crate) hook_depth: usize,
    /// Who the transaction reads and writes as.
    pub(crate) view: Viewing,
    /// What the transaction changed, for after-commit hooks and subscribers (kept only when
    /// one is registered).
    pub(crate) changes: Vec<ChangeRecord>,
    /// Whether to keep `changes`.
    pub(crate) track_changes: bool,
}

/// What writes need beside the catalog: the registered hooks, and the per-table operations
/// cascades dispatch to by table position.
#[derive(Default)]
pub(crate) struct WriteSetup {
    pub(crate) hooks: HookSet,
    /// Every table's read and write rules.
    pub(crate) rules: Arc<RuleSet>,
    /// Grouped writes waiting for the next shared commit.
    pub(crate) group: GroupQueue,
    pub(crate) ops: Vec<TableOps<WriteTx>>,
    pub(crate) notify: Notify,
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
            last_ids: HashMap::new(),
            last_created: HashMap::new(),
            hooks_on: true,
            hook_depth: 0,
            view: Viewing::nobody(setup.rules.clone()),
            changes: Vec::new(),
            track_changes: setup.notify.wanted(),
        })
    }

    /// Sets how durable the commit is; the default is [`Durability::Immediate`].
    pub fn set_durability(&mut self, durability: Durability) -> Result<()> {
        self.store.set_durability(durability)
    }

    /// Makes every write of the transaction permanent, then runs the after-commit hooks and
    /// tells the subscribers (see [`Db::subscribe`](crate::Db::subscribe)).
    pub fn commit(mut self) -> Result<()> {
        for (&slot, &last) in &self.last_ids {
            self.store
                .set_counter(self.db.tables[slot].schema.name, last)?;
        }
        if self.changes.is_empty() {
            return self.store.commit();
        }
        let (db, setup) = (self.db.clone(), self.setup.clone());
        let records = std::mem::take(&mut self.changes);
        let store = &self.store;
        let changes = setup.notify.prepare(&records, |slot, id| {
            store.with_row(db.tables[slot].schema.name, id, |b| Ok(b.to_vec()))
        })?;
        let _in_commit_order = setup.notify.order();
        self.store.commit()?;
        setup.notify.deliver(&db, &changes);
        Ok(())
    }

    /// Notes that row `id` of table `slot` changed, for after-commit hooks and subscribers.
    #[inline]
    pub(crate) fn record(&mut self, slot: usize, id: u64, kind: ChangeKind) {
        if self.track_changes {
            self.changes.push(ChangeRecord { slot, id, kind });
        }
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

    /// Runs `f` as a nested part of the transaction: when it returns `Err`, or panics,
    /// everything it wrote — with the cascades and the hooks' writes it caused — is undone, and
    /// the transaction goes on from where it was; when it returns `Ok`, its writes stay, for the
    /// transaction to commit or not. Savepoints nest.
    ///
    /// A savepoint closure returns `redorm::Result`; to leave one with an error of your own,
    /// return `Err(Error::cancel(your_error))` and get it back with
    /// [`Error::cancelled_by`](crate::Error::cancelled_by). A panic inside undoes the
    /// savepoint's writes before it goes on unwinding.
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Seat { #[unique] code: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Seat>().in_memory()?;
    /// db.write(|tx| {
    ///     tx.insert(Seat { code: "1A".into() })?;
    ///     // Book both seats or neither: 1A is taken, so 2B is not kept either.
    ///     let both = tx.savepoint(|tx| {
    ///         tx.insert(Seat { code: "2B".into() })?;
    ///         tx.insert(Seat { code: "1A".into() })
    ///     });
    ///     assert!(both.is_err());
    ///     tx.insert(Seat { code: "3C".into() })?;
    ///     Ok(())
    /// })?;
    /// let codes: Vec<String> = db.read()?.query::<Seat>().allow_full_scan().all()?
    ///     .iter().map(|s| s.code.clone()).collect();
    /// assert_eq!(codes, ["1A", "3C"]);
    /// # Ok(()) }
    /// ```
    pub fn savepoint<R>(&mut self, f: impl FnOnce(&mut WriteTx) -> Result<R>) -> Result<R> {
        self.atomic(f)
    }

    /// Runs one call all-or-nothing (a savepoint): when `f` fails or panics, everything it
    /// wrote is written back as it was (ids it took are given out again) and what it recorded
    /// for after-commit hooks is forgotten. Calls of the public API that can fail after their
    /// first write use it; see [`WriteTx::may_fail_late`].
    pub(crate) fn atomic<R>(&mut self, f: impl FnOnce(&mut WriteTx) -> Result<R>) -> Result<R> {
        let mark = self.store.mark();
        let last_ids = self.last_ids.clone();
        let changes = self.changes.len();
        let out = panic::catch_unwind(AssertUnwindSafe(|| f(self)));
        if let Ok(Ok(_)) = &out {
            self.store.release(mark);
        } else {
            // A failure to write back poisons the transaction (it cannot commit then); the
            // caller is told what failed first.
            let _ = self.store.rollback_to(mark);
            self.last_ids = last_ids;
            self.changes.truncate(changes);
        }
        match out {
            Ok(result) => result,
            Err(panic) => panic::resume_unwind(panic),
        }
    }

    /// Whether a single-row write can fail after it has started writing: only a hook can
    /// (the row's own checks all run before its first write).
    pub(crate) fn may_fail_late(&self) -> bool {
        self.hooks_on && !self.setup.hooks.is_empty()
    }

    /// The `created_at` for a row inserted now into table `slot`: the clock, but never
    /// earlier than the table's newest row (a clock that steps back keeps the order). A
    /// stamp kept after a refused insert only makes later stamps no earlier: harmless.
    pub(crate) fn stamp(&mut self, slot: usize) -> Result<i64> {
        let now = self.db.clock.now_ms();
        let last = match self.last_created.get(&slot) {
            Some(&t) => t,
            None => {
                let name = self.db.tables[slot].schema.name;
                let mut newest = None;
                self.store.scan_rows(
                    name,
                    std::ops::Bound::Unbounded,
                    std::ops::Bound::Unbounded,
                    true,
                    &mut |id, bytes| {
                        let mut input = bytes;
                        let header = RowHeader::read(&mut input)
                            .map_err(|e| crate::storage::corrupt(name, Some(id), e.detail))?;
                        newest = Some(header.created_at);
                        Ok(false)
                    },
                )?;
                newest.unwrap_or(i64::MIN)
            }
        };
        let stamp = now.max(last);
        self.last_created.insert(slot, stamp);
        Ok(stamp)
    }

    pub(crate) fn next_id(&mut self, slot: usize) -> Result<u64> {
        let name = self.db.tables[slot].schema.name;
        let last = match self.last_ids.get(&slot) {
            Some(&n) => n,
            None => self.store.counter(name)?,
        };
        let next = last
            .checked_add(1)
            .ok_or_else(|| counter_exhausted(name, &format!("the id sequence of `{name}`")))?;
        self.last_ids.insert(slot, next);
        Ok(next)
    }

    /// A fresh token for a soft delete (shared by every row it reaches).
    pub(crate) fn next_token(&mut self) -> Result<u64> {
        self.bump_counter(TOKEN_COUNTER, "the soft-delete token counter")
    }

    /// Adds one to counter `name` and returns the new value.
    pub(crate) fn bump_counter(&mut self, name: &str, what: &str) -> Result<u64> {
        let next = self
            .store
            .counter(name)?
            .checked_add(1)
            .ok_or_else(|| counter_exhausted(name, what))?;
        self.store.set_counter(name, next)?;
        Ok(next)
    }
}

/// The counter that hands out soft-delete tokens.
pub(crate) const TOKEN_COUNTER: &str = "__redorm_delete_tokens";

/// A counter read from the file is at `u64::MAX`: no write ever gets it there (2^64 ids), so
/// the file is damaged.
fn counter_exhausted(name: &str, what: &str) -> crate::Error {
    crate::Error::Corrupt {
        table: "__redorm_seq".to_string(),
        id: None,
        column: None,
        detail: format!(
            "{what} (counter `{name}`) is at its largest value, which no write reaches: the file \
             is damaged; run Db::check_integrity and restore the file from a backup"
        ),
    }
}
