//! Running due jobs: each batch of a purge its own transaction, the job removed with its
//! last batch.

use std::ops::Bound;
use std::sync::Arc;

use super::store::{JobKey, job_problem};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::storage::{self, ReadStore, ReadTxn, Source, Space};
use crate::write::schedule::{JOB_KEY_LEN, Job, due_of};
use crate::write::{WriteSetup, WriteTx};

/// What [`Db::run_due_jobs`](crate::Db::run_due_jobs) did.
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
    pub failed: Vec<FailedJob>,
}

/// A job [`Db::run_due_jobs`](crate::Db::run_due_jobs) could not run; it stays stored and is
/// tried again next time (see [`Db::pending_jobs`](crate::Db::pending_jobs) and
/// [`Db::remove_job`](crate::Db::remove_job) for a job that can never run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedJob {
    /// The job's key.
    pub key: JobKey,
    /// The table of the row the job purges (`None`: the job does not decode).
    pub table: Option<String>,
    /// The row's id (`None`: the job does not decode).
    pub id: Option<u64>,
    /// Why it failed.
    pub error: String,
}

/// Runs every scheduled deletion that is due by the database's clock, to the end.
pub(crate) fn run_due(db: &Arc<Catalog>, setup: &Arc<WriteSetup>) -> Result<JobReport> {
    Runner { db, setup }.run()
}

struct Runner<'a> {
    db: &'a Arc<Catalog>,
    setup: &'a Arc<WriteSetup>,
}

impl Runner<'_> {
    fn run(&self) -> Result<JobReport> {
        let mut report = JobReport::default();
        // Jobs run in key order and leave when done, so the ones before the last failure of this
        // run have all failed in it: the search goes on after that one.
        let mut skip_after: Option<Vec<u8>> = None;
        loop {
            let now = self.db.clock.now_ms();
            // The first job not already failed in this run, if it is due (or damaged: a key
            // of the wrong length has no due time, and is reported rather than run).
            let next = {
                // A snapshot is enough to find it: the writer is taken only to run it.
                let store = ReadStore::begin(&self.db.engine)?;
                let mut found = None;
                let from = skip_after
                    .as_deref()
                    .map_or(Bound::Unbounded, Bound::Excluded);
                store.txn().scan(
                    Space::Jobs,
                    from,
                    Bound::Unbounded,
                    false,
                    |k: &[u8], v: &[u8]| {
                        let damaged = k.len() != JOB_KEY_LEN;
                        if damaged || due_of(k).is_some_and(|d| d <= now) {
                            found = Some((k.to_vec(), v.to_vec()));
                        }
                        Ok(false)
                    },
                )?;
                found
            };
            let Some((key, value)) = next else { break };
            let (job, problem) = job_problem(self.db, &key, &value);
            let outcome = match (&job, problem) {
                (Some(job), None) => self.run_job(&key, job, &mut report),
                (_, Some(problem)) => Err(problem),
                (None, None) => Err("the job does not decode".to_string()),
            };
            if let Err(error) = outcome {
                report.failed.push(FailedJob {
                    key: JobKey(key.clone()),
                    table: job.as_ref().map(|j| j.table.clone()),
                    id: job.as_ref().map(|j| j.id),
                    error,
                });
                skip_after = Some(key);
            }
        }
        Ok(report)
    }

    /// Runs one job to its end; the error's text when a batch fails.
    fn run_job(
        &self,
        key: &[u8],
        job: &Job,
        report: &mut JobReport,
    ) -> std::result::Result<(), String> {
        self.purge(key, job, report).map_err(|e| e.to_string())
    }

    fn purge(&self, key: &[u8], job: &Job, report: &mut JobReport) -> Result<()> {
        let slot = self
            .db
            .tables
            .iter()
            .position(|t| t.schema.name == job.table)
            .ok_or_else(|| Error::Schema {
                table: job.table.clone(),
                message: "a scheduled deletion names this table, which is not registered; register it to let the job run".to_string(),
            })?;
        loop {
            let batch = crate::trace::job_batch(&job.table);
            let mut tx = WriteTx::begin(self.db, self.setup)?;
            // Jobs run as the system: what was scheduled is carried out whoever scheduled it.
            tx.skip_rules();
            let header = storage::row_header(&tx.store, &job.table, job.id)?;
            let still_due = header
                .and_then(|h| h.deleted)
                .is_some_and(|(_, token)| token == job.token);
            if !still_due {
                tx.store.remove_meta(Space::Jobs, key)?;
                tx.commit()?;
                batch.record_count("count", 0);
                report.cancelled += 1;
                report.batches += 1;
                return Ok(());
            }
            let budget = self.db.job_batch_rows.max(1);
            let (updated, deleted, finished) = tx.purge_step(slot, job.id, budget)?;
            if finished {
                tx.store.remove_meta(Space::Jobs, key)?;
            }
            tx.commit()?;
            batch.record_count("count", updated + deleted);
            report.rows_updated += updated;
            report.rows_deleted += deleted;
            report.batches += 1;
            if finished {
                report.completed += 1;
                return Ok(());
            }
        }
    }
}
