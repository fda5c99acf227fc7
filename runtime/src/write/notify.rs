//! Telling the application what committed: after-commit hooks registered on the builder, and
//! subscriptions to one table's changes (`Db::subscribe`).
//!
//! A write transaction records each row it inserts, rewrites or removes — only while an
//! after-commit hook or a subscription exists, so writes pay nothing otherwise. A savepoint
//! that is undone forgets what it recorded. At commit the records are folded into one change
//! per row (the net effect: a row inserted and then deleted in one transaction is no change at
//! all), the rows subscribers want are read from the transaction's final state, and once the
//! commit has succeeded the hooks run and the subscribers are sent the changes. Commit and
//! delivery happen under one lock, so every subscriber sees transactions in commit order.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::catalog::{Catalog, TableInfo, decode_doc};
use crate::error::{Error, Result};
use crate::model::{Doc, Id, Table};

/// What a committed transaction did to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// The row is new.
    Inserted,
    /// The row was rewritten (a soft delete and an undelete are rewrites too: look at
    /// [`Doc::deleted_at`]).
    Updated,
    /// The row is gone.
    Deleted,
}

/// One row a committed transaction changed, as after-commit hooks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Change {
    /// The table.
    pub table: &'static str,
    /// The row's id.
    pub id: u64,
    /// What happened to it.
    pub kind: ChangeKind,
}

impl Change {
    /// The row's id, if the change is to table `T`.
    pub fn id_of<T: Table>(&self) -> Option<Id<T>> {
        (self.table == T::NAME).then(|| Id::from_raw(self.id))
    }
}

/// One change to a row of `T`, as a [`Subscription`] delivers it.
#[derive(Clone)]
pub struct RowChange<T> {
    /// The row's id.
    pub id: Id<T>,
    /// What happened to it.
    pub kind: ChangeKind,
    /// The row as the transaction left it (`None` when it was deleted).
    pub row: Option<Doc<T>>,
}

/// Shows the id as `table:number`, as [`Doc`]'s `Debug` does.
impl<T: Table + fmt::Debug> fmt::Debug for RowChange<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowChange")
            .field("id", &format_args!("{}", self.id))
            .field("kind", &self.kind)
            .field("row", &self.row)
            .finish()
    }
}

/// What a [`Subscription`] receives.
#[derive(Clone)]
pub enum Event<T> {
    /// A committed change, in commit order.
    Changed(RowChange<T>),
    /// Changes were dropped because the subscription's buffer was full (the subscriber was
    /// slower than the writers): what it knows may be stale, so it should read afresh. Later
    /// changes follow.
    Lagged,
}

impl<T: Table + fmt::Debug> fmt::Debug for Event<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Changed(change) => f.debug_tuple("Changed").field(change).finish(),
            Event::Lagged => f.write_str("Lagged"),
        }
    }
}

pub(crate) type AfterCommit = Arc<dyn Fn(&[Change]) -> Result<()> + Send + Sync>;
pub(crate) type OnFailure = Arc<dyn Fn(&Error) + Send + Sync>;

/// A change recorded during the transaction: table slot, row id, kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChangeRecord {
    pub(crate) slot: usize,
    pub(crate) id: u64,
    pub(crate) kind: ChangeKind,
}

/// Sends one table's changes to one subscriber; `false` once the subscriber is gone.
type Deliver = Box<dyn FnMut(&TableInfo, &ChangeRecord, Option<&[u8]>) -> bool + Send>;

struct Subscriber {
    slot: usize,
    deliver: Deliver,
}

/// The after-commit hooks and the subscribers of a database.
#[derive(Default)]
pub(crate) struct Notify {
    pub(crate) after_commit: Vec<AfterCommit>,
    pub(crate) on_failure: Option<OnFailure>,
    subscribers: Mutex<Vec<Subscriber>>,
    live: AtomicUsize,
    /// Held from commit to the end of delivery, so deliveries follow commit order.
    order: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these (hooks run outside them); a poisoned one is as good.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A change folded into the net effect of the whole transaction on its row.
fn fold(records: &[ChangeRecord]) -> Vec<ChangeRecord> {
    let mut at: HashMap<(usize, u64), usize> = HashMap::new();
    let mut out: Vec<Option<ChangeRecord>> = Vec::new();
    for r in records {
        match at.get(&(r.slot, r.id)) {
            None => {
                at.insert((r.slot, r.id), out.len());
                out.push(Some(*r));
            }
            Some(&i) => {
                let Some(first) = out[i] else { continue };
                out[i] = match (first.kind, r.kind) {
                    // Born and gone within the transaction: nobody ever saw it.
                    (ChangeKind::Inserted, ChangeKind::Deleted) => None,
                    (ChangeKind::Inserted, _) => Some(first),
                    (_, kind) => Some(ChangeRecord { kind, ..first }),
                };
            }
        }
    }
    out.into_iter().flatten().collect()
}

impl Notify {
    /// Whether a transaction beginning now must record its changes.
    pub(crate) fn wanted(&self) -> bool {
        !self.after_commit.is_empty() || self.live.load(Ordering::Acquire) > 0
    }

    /// Whether table `slot` has a subscriber (its changed rows are then read at commit).
    pub(crate) fn watches(&self, slot: usize) -> bool {
        self.live.load(Ordering::Acquire) > 0
            && lock(&self.subscribers).iter().any(|s| s.slot == slot)
    }

    /// Folds what a transaction recorded, and reads the rows subscribers will be sent with
    /// `read` (from the transaction, before it commits).
    pub(crate) fn prepare(
        &self,
        records: &[ChangeRecord],
        mut read: impl FnMut(usize, u64) -> Result<Option<Vec<u8>>>,
    ) -> Result<Vec<(ChangeRecord, Option<Vec<u8>>)>> {
        let mut out = Vec::new();
        let mut watched: HashMap<usize, bool> = HashMap::new();
        for r in fold(records) {
            let watch = *watched
                .entry(r.slot)
                .or_insert_with(|| self.watches(r.slot));
            let row = if watch && r.kind != ChangeKind::Deleted {
                read(r.slot, r.id)?
            } else {
                None
            };
            out.push((r, row));
        }
        Ok(out)
    }

    /// Takes the lock that keeps deliveries in commit order; hold it across commit and
    /// [`deliver`](Notify::deliver).
    pub(crate) fn order(&self) -> MutexGuard<'_, ()> {
        lock(&self.order)
    }

    /// Runs the after-commit hooks and sends the subscribers what committed. A hook's error or
    /// panic changes nothing of the commit: it goes to the failure handler.
    pub(crate) fn deliver(&self, db: &Catalog, changes: &[(ChangeRecord, Option<Vec<u8>>)]) {
        if changes.is_empty() {
            return;
        }
        if self.live.load(Ordering::Acquire) > 0 {
            let mut subs = lock(&self.subscribers);
            subs.retain_mut(|s| {
                let info = &db.tables[s.slot];
                changes
                    .iter()
                    .filter(|(r, _)| r.slot == s.slot)
                    .all(|(r, row)| (s.deliver)(info, r, row.as_deref()))
            });
            self.live.store(subs.len(), Ordering::Release);
        }
        if self.after_commit.is_empty() {
            return;
        }
        let list: Vec<Change> = changes
            .iter()
            .map(|(r, _)| Change {
                table: db.tables[r.slot].schema.name,
                id: r.id,
                kind: r.kind,
            })
            .collect();
        for hook in &self.after_commit {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| hook(&list)));
            let error = match outcome {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e,
                Err(panic) => Error::hook(format!(
                    "an after-commit hook panicked: {}",
                    panic_message(panic.as_ref())
                )),
            };
            match &self.on_failure {
                Some(report) => report(&error),
                // Nothing else can hear of it: the commit itself succeeded.
                None => eprintln!("redorm: after-commit hook failed (the commit stands): {error}"),
            }
        }
    }

    /// Adds a subscriber to table `slot` of `T`.
    pub(crate) fn subscribe<T: Table + Send>(
        &self,
        slot: usize,
        capacity: usize,
        keep: impl Fn(&RowChange<T>) -> bool + Send + 'static,
    ) -> Subscription<T> {
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let flag = AtomicBool::new(false);
        let deliver: Deliver = Box::new(move |info, record, bytes| {
            let row = match bytes
                .map(|b| decode_doc::<T>(info, record.id, b))
                .transpose()
            {
                Ok(row) => row,
                // A row this transaction just wrote always decodes; if not, say it lagged.
                Err(_) => return send(&tx, &flag, Event::Lagged),
            };
            let change = RowChange {
                id: Id::from_raw(record.id),
                kind: record.kind,
                row,
            };
            if !keep(&change) {
                return true;
            }
            send(&tx, &flag, Event::Changed(change))
        });
        let mut subs = lock(&self.subscribers);
        subs.push(Subscriber { slot, deliver });
        self.live.store(subs.len(), Ordering::Release);
        Subscription {
            rx,
            _marker: PhantomData,
        }
    }
}

/// Sends an event without blocking: when the buffer is full it is dropped and the subscriber
/// is told it lagged before the next event that fits. `false` once the receiver is gone.
fn send<T>(tx: &SyncSender<Event<T>>, lagged: &AtomicBool, event: Event<T>) -> bool {
    if lagged.load(Ordering::Relaxed) {
        match tx.try_send(Event::Lagged) {
            Ok(()) => lagged.store(false, Ordering::Relaxed),
            Err(TrySendError::Full(_)) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
        }
    }
    match tx.try_send(event) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            lagged.store(true, Ordering::Relaxed);
            true
        }
        Err(TrySendError::Disconnected(_)) => false,
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Committed changes to the rows of `T`, in commit order; from
/// [`Db::subscribe`](crate::Db::subscribe). Writers never wait for it: its buffer is bounded,
/// and when it is full changes are dropped and [`Event::Lagged`] says so. Dropping it ends
/// the subscription.
pub struct Subscription<T> {
    rx: Receiver<Event<T>>,
    _marker: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl<T> Subscription<T> {
    /// The next event, waiting for one; `None` once the database is dropped and everything
    /// sent has been received.
    pub fn recv(&self) -> Option<Event<T>> {
        self.rx.recv().ok()
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Option<Event<T>> {
        self.rx.try_recv().ok()
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event<T>> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Every event waiting now, without waiting for more.
    pub fn drain(&self) -> Vec<Event<T>> {
        self.rx.try_iter().collect()
    }
}
