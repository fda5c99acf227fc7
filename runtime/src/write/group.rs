//! Group commit: concurrent [`Db::write_grouped`](crate::Db::write_grouped) calls share one
//! write transaction and one durable commit.
//!
//! Callers queue their closures. One of them leads: it opens a transaction, runs every queued
//! closure in turn, each under its own savepoint (so one caller's `Err` or panic takes back only
//! its own writes), commits once, and hands each caller its result. Callers that queue while a
//! commit is in flight are taken by the next batch, so under load many small durable writes pay
//! for one fsync. Each caller returns only once the commit its work was part of is durable (or
//! has failed, which fails every caller of that batch).

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::tx::{WriteSetup, WriteTx};
use crate::catalog::Catalog;
use crate::error::{Error, Result, StorageError};

/// What a caller gets back: its closure's result, or the panic it raised.
type Outcome<R> = std::result::Result<Result<R>, Box<dyn Any + Send>>;

/// A queued closure: runs under a savepoint in the shared transaction (`None`: the transaction
/// could not begin) and returns what to do once the commit is known (deliver the result, or
/// the failure).
type Job = Box<dyn FnOnce(Option<&mut WriteTx>) -> Box<dyn FnOnce(Option<&Error>) + Send> + Send>;

struct Queued {
    ticket: u64,
    job: Job,
}

#[derive(Default)]
struct State {
    pending: VecDeque<Queued>,
    /// Whether a caller is leading a batch now.
    leading: bool,
    next_ticket: u64,
    /// Tickets whose results are delivered.
    delivered: Vec<u64>,
}

/// The queue of grouped writes of one database.
#[derive(Default)]
pub(crate) struct GroupQueue {
    state: Mutex<State>,
    changed: Condvar,
    /// How long a leader waits for more callers before it starts a batch.
    pub(crate) window: Duration,
}

impl GroupQueue {
    pub(crate) fn with_window(window: Duration) -> Self {
        GroupQueue {
            window,
            ..GroupQueue::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic never happens while the lock is held (closures run outside it).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `f` as part of the next grouped commit; see the module docs.
pub(crate) fn write_grouped<R: Send + 'static>(
    db: &Arc<Catalog>,
    setup: &Arc<WriteSetup>,
    f: impl FnOnce(&mut WriteTx) -> Result<R> + Send + 'static,
) -> Result<R> {
    let queue = &setup.group;
    let slot: Arc<Mutex<Option<Outcome<R>>>> = Arc::new(Mutex::new(None));
    let deliver_to = slot.clone();
    let job: Job = Box::new(move |tx: Option<&mut WriteTx>| {
        let outcome: Option<Outcome<R>> =
            tx.map(|tx| panic::catch_unwind(AssertUnwindSafe(|| tx.savepoint(f))));
        Box::new(move |commit: Option<&Error>| {
            let outcome = match (outcome, commit) {
                // The closure's own work was kept (or never ran), but the batch failed.
                (Some(Ok(Ok(_))) | None, Some(e)) => Ok(Err(shared_failure(e))),
                (Some(outcome), _) => outcome,
                (None, None) => Ok(Err(shared_failure(&Error::Storage(StorageError::new(
                    std::io::Error::other("the write transaction did not begin"),
                ))))),
            };
            *deliver_to.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        })
    });
    let ticket = {
        let mut state = queue.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.pending.push_back(Queued { ticket, job });
        ticket
    };
    loop {
        let mut state = queue.lock();
        loop {
            if let Some(i) = state.delivered.iter().position(|&t| t == ticket) {
                state.delivered.swap_remove(i);
                drop(state);
                let outcome = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                return match outcome {
                    Some(Ok(result)) => result,
                    Some(Err(panic)) => panic::resume_unwind(panic),
                    // Every delivered ticket had its slot filled first.
                    None => Err(shared_failure(&Error::Storage(StorageError::new(
                        std::io::Error::other("a grouped write lost its result"),
                    )))),
                };
            }
            if !state.leading && state.pending.iter().any(|q| q.ticket == ticket) {
                state.leading = true;
                break;
            }
            state = queue
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(state);
        lead(db, setup);
    }
}

/// Runs one batch: everything queued (after the window), one transaction, one commit.
fn lead(db: &Arc<Catalog>, setup: &Arc<WriteSetup>) {
    let queue = &setup.group;
    if !queue.window.is_zero() {
        std::thread::sleep(queue.window);
    }
    let batch: Vec<Queued> = queue.lock().pending.drain(..).collect();
    let tickets: Vec<u64> = batch.iter().map(|q| q.ticket).collect();
    let mut finishers = Vec::with_capacity(batch.len());
    let commit = match WriteTx::begin(db, setup) {
        Ok(mut tx) => {
            for q in batch {
                finishers.push((q.job)(Some(&mut tx)));
            }
            tx.commit().err()
        }
        Err(e) => {
            for q in batch {
                finishers.push((q.job)(None));
            }
            Some(e)
        }
    };
    for finish in finishers {
        finish(commit.as_ref());
    }
    let mut state = queue.lock();
    state.delivered.extend(tickets);
    state.leading = false;
    drop(state);
    queue.changed.notify_all();
}

/// The error every caller of a batch whose commit failed gets (the error itself is not
/// `Clone`; its message is kept).
fn shared_failure(e: &Error) -> Error {
    Error::Storage(StorageError::new(std::io::Error::other(format!(
        "the grouped commit this write was part of failed, so none of the batch was kept: {e}"
    ))))
}
