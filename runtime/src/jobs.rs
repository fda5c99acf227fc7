//! Scheduled deletion: jobs stored in the database, run by [`Db::run_due_jobs`] or a
//! background [`Worker`].
//!
//! A table declared `#[table(delete = scheduled(delay = "30d"))]` soft-deletes at once and
//! stores a job due `delay` later. Running the job deletes the row hard with its `on_delete`
//! actions, in batches of at most `job_batch_rows` rows (builder option, default 500), each
//! batch its own transaction, children before parents and the row itself last — so after
//! every batch no surviving row references a removed one. A crash or a restart between
//! batches loses nothing: the job is still in the file and the next run goes on from what is
//! left. [`WriteTx::undelete`](crate::WriteTx::undelete) before the job finishes cancels it;
//! rows already purged by earlier batches stay purged.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::codec;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::storage::{self, ReadStore, Source, Space};
use std::ops::Bound;

/// A stored job: purge row `id` of `table` if it is still soft-deleted with `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    pub(crate) table: String,
    pub(crate) id: u64,
    pub(crate) token: u64,
}

impl Job {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        codec::put_bytes(&mut out, self.table.as_bytes());
        codec::put_varint(&mut out, self.id);
        codec::put_varint(&mut out, self.token);
        out
    }

    pub(crate) fn decode(mut bytes: &[u8]) -> Option<Job> {
        let table = codec::get_bytes(&mut bytes, "table").ok()?;
        let table = String::from_utf8(table.to_vec()).ok()?;
        let id = codec::get_varint(&mut bytes).ok()?;
        let token = codec::get_varint(&mut bytes).ok()?;
        Some(Job { table, id, token })
    }
}

/// Jobs sort by due time: the time, sign-flipped big-endian, then the job's own number.
pub(crate) fn job_key(due: i64, job_id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(16);
    k.extend_from_slice(&((due as u64) ^ (1 << 63)).to_be_bytes());
    k.extend_from_slice(&job_id.to_be_bytes());
    k
}

fn due_of(key: &[u8]) -> Option<i64> {
    let b: [u8; 8] = key.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
}

/// What [`Db::run_due_jobs`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    /// Jobs whose row is now gone for good.
    pub completed: usize,
    /// Jobs dropped because their row was undeleted (or already gone).
    pub cancelled: usize,
    /// Rows removed, cascades included.
    pub rows_deleted: usize,
    /// Rows whose foreign key was cleared or reset by `on_delete`.
    pub rows_updated: usize,
    /// Transactions committed.
    pub batches: usize,
    /// Jobs that could not run (for example a `restrict` foreign key blocks the purge), with
    /// the error; they stay stored and are tried again on the next run.
    pub failed: Vec<(String, u64, String)>,
}

impl Db {
    /// Runs every scheduled deletion that is due by the database's clock, to the end, and
    /// returns what it did. Each batch of at most `job_batch_rows` rows is its own
    /// transaction.
    ///
    /// ```
    /// use redorm::prelude::*;
    /// use redorm::ManualClock;
    /// use std::time::Duration;
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(delete = scheduled(delay = "1h"))]
    /// struct Upload { name: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let clock = ManualClock::new(0);
    /// let db = Db::builder().table::<Upload>().clock(clock.clone()).in_memory()?;
    /// let id = db.write(|tx| tx.insert(Upload { name: "a.png".into() }))?;
    /// db.write(|tx| tx.delete(id))?;                       // soft now
    /// assert_eq!(db.run_due_jobs()?.completed, 0);          // not due yet
    /// clock.advance(Duration::from_secs(3600));
    /// assert_eq!(db.run_due_jobs()?.completed, 1);          // purged
    /// assert!(db.read()?.get_including_deleted(id)?.is_none());
    /// # Ok(()) }
    /// ```
    pub fn run_due_jobs(&self) -> Result<JobReport> {
        let mut report = JobReport::default();
        // Jobs run in key order and leave when done, so the ones before the last failure of this
        // run have all failed in it: the search goes on after that one.
        let mut skip_after: Option<Vec<u8>> = None;
        loop {
            let now = self.inner.clock.now_ms();
            // The first due job not already failed in this run.
            let next = {
                // A snapshot is enough to find it: the writer is taken only to run it.
                let store = ReadStore::begin(&*self.inner.engine)?;
                let mut found = None;
                let from = skip_after
                    .as_deref()
                    .map_or(Bound::Unbounded, Bound::Excluded);
                store
                    .txn()
                    .scan(Space::Jobs, from, Bound::Unbounded, false, &mut |k, v| {
                        if due_of(k).is_some_and(|d| d <= now) {
                            found = Some((k.to_vec(), v.to_vec()));
                        }
                        Ok(false)
                    })?;
                found
            };
            let Some((key, value)) = next else { break };
            let Some(job) = Job::decode(&value) else {
                return Err(storage::corrupt(
                    "__redorm_jobs",
                    None,
                    "a scheduled job does not decode",
                ));
            };
            match self.run_job(&key, &job, &mut report) {
                Ok(()) => {}
                Err(e) => {
                    report
                        .failed
                        .push((job.table.clone(), job.id, e.to_string()));
                    skip_after = Some(key);
                }
            }
        }
        Ok(report)
    }

    fn run_job(&self, key: &[u8], job: &Job, report: &mut JobReport) -> Result<()> {
        let slot = self
            .inner
            .tables
            .iter()
            .position(|t| t.schema.name == job.table)
            .ok_or_else(|| Error::Schema {
                table: job.table.clone(),
                message: "a scheduled deletion names this table, which is not registered; register it to let the job run".to_string(),
            })?;
        loop {
            let mut tx = self.begin_write()?;
            let header = storage::row_header(&tx.store, &job.table, job.id)?;
            let still_due = header
                .and_then(|h| h.deleted)
                .is_some_and(|(_, token)| token == job.token);
            if !still_due {
                tx.store.remove_meta(Space::Jobs, key)?;
                tx.commit()?;
                report.cancelled += 1;
                report.batches += 1;
                return Ok(());
            }
            let budget = self.inner.job_batch_rows.max(1);
            let (updated, deleted, finished) = tx.purge_step(slot, job.id, budget)?;
            if finished {
                tx.store.remove_meta(Space::Jobs, key)?;
            }
            tx.commit()?;
            report.rows_updated += updated;
            report.rows_deleted += deleted;
            report.batches += 1;
            if finished {
                report.completed += 1;
                return Ok(());
            }
        }
    }

    /// Starts a thread that calls [`run_due_jobs`](Db::run_due_jobs) every `every` until the
    /// returned [`Worker`] is stopped or dropped.
    pub fn start_worker(&self, every: Duration) -> Worker {
        let (stop, stopped) = mpsc::channel::<()>();
        let db = self.clone();
        let last: Arc<std::sync::Mutex<Option<std::result::Result<JobReport, String>>>> =
            Arc::default();
        let out = last.clone();
        let handle = thread::spawn(move || {
            loop {
                let result = db.run_due_jobs().map_err(|e| e.to_string());
                if let Ok(mut slot) = out.lock() {
                    *slot = Some(result);
                }
                match stopped.recv_timeout(every) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
            }
        });
        Worker {
            stop: Some(stop),
            handle: Some(handle),
            last,
        }
    }
}

type LastRun = Arc<std::sync::Mutex<Option<std::result::Result<JobReport, String>>>>;

/// A background thread running scheduled deletions; from [`Db::start_worker`]. Dropping it
/// stops the thread (after the run in progress, if any).
#[derive(Debug)]
pub struct Worker {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<thread::JoinHandle<()>>,
    last: LastRun,
}

impl Worker {
    /// The outcome of the latest run, if one has finished (errors as text).
    pub fn last_run(&self) -> Option<std::result::Result<JobReport, String>> {
        self.last.lock().ok().and_then(|g| g.clone())
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_keys_sort_by_due_time_then_number() {
        assert!(job_key(-5, 9) < job_key(3, 1));
        assert!(job_key(3, 1) < job_key(3, 2));
        assert_eq!(due_of(&job_key(-42, 7)), Some(-42));
        let job = Job {
            table: "users".into(),
            id: 7,
            token: 3,
        };
        assert_eq!(Job::decode(&job.encode()), Some(job));
        assert_eq!(Job::decode(&[0xff]), None);
    }
}
