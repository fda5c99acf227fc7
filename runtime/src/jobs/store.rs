//! Listing and removing stored jobs by hand: what an operator needs when a job cannot run
//! (its bytes are damaged, or it names a table the program no longer registers).

use std::fmt;
use std::ops::Bound;
use std::str::FromStr;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::storage::{ReadStore, ReadTxn, Source, Space, WriteStore};
use crate::write::schedule::{JOB_KEY_LEN, Job, due_of};

/// The key of a stored job, as [`Db::pending_jobs`](crate::Db::pending_jobs) lists it; its
/// text form is hexadecimal and parses back with [`str::parse`].
///
/// ```
/// use redorm::JobKey;
/// let key: JobKey = "80000000000000050000000000000001".parse().unwrap();
/// assert_eq!(key.to_string(), "80000000000000050000000000000001");
/// assert!("xyz".parse::<JobKey>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey(pub(crate) Vec<u8>);

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl FromStr for JobKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidQuery {
            table: "__redorm_jobs",
            reason: format!("`{s}` is not a job key (an even number of hexadecimal digits)"),
        };
        if !s.len().is_multiple_of(2) {
            return Err(bad());
        }
        (0..s.len())
            .step_by(2)
            .map(|i| {
                s.get(i..i + 2)
                    .and_then(|d| u8::from_str_radix(d, 16).ok())
                    .ok_or_else(bad)
            })
            .collect::<Result<Vec<u8>>>()
            .map(JobKey)
    }
}

/// A stored job (a scheduled deletion), as [`Db::pending_jobs`](crate::Db::pending_jobs) finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingJob {
    /// Its key, for [`Db::remove_job`](crate::Db::remove_job).
    pub key: JobKey,
    /// When it is due, in milliseconds of the database's clock (`None`: the key is damaged).
    pub due_ms: Option<i64>,
    /// The table of the row it purges (`None`: the job does not decode).
    pub table: Option<String>,
    /// The row it purges (`None`: the job does not decode).
    pub id: Option<u64>,
    /// Why it cannot run, if it cannot: a damaged key or value, or a table this program does
    /// not register. `run_due_jobs` reports such a job as failed each time and goes on with
    /// the others; remove it with [`Db::remove_job`](crate::Db::remove_job) once understood.
    pub problem: Option<String>,
}

/// What is wrong with a stored job that keeps it from running, if anything.
pub(crate) fn job_problem(db: &Catalog, key: &[u8], value: &[u8]) -> (Option<Job>, Option<String>) {
    if key.len() != JOB_KEY_LEN {
        let problem = format!(
            "the job key is {} bytes, not {JOB_KEY_LEN}: the jobs table is damaged",
            key.len()
        );
        return (Job::decode(value), Some(problem));
    }
    let Some(job) = Job::decode(value) else {
        return (
            None,
            Some("the job does not decode: the jobs table is damaged".to_string()),
        );
    };
    if !db.tables.iter().any(|t| t.schema.name == job.table) {
        let problem = format!(
            "the job purges a row of table `{}`, which is not registered; register the table to let it run",
            job.table
        );
        return (Some(job), Some(problem));
    }
    (Some(job), None)
}

/// Every stored job, in the order they fall due.
pub(crate) fn pending(db: &Arc<Catalog>) -> Result<Vec<PendingJob>> {
    let store = ReadStore::begin(&db.engine)?;
    let mut out = Vec::new();
    store.txn().scan(
        Space::Jobs,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |k, v| {
            let (job, problem) = job_problem(db, k, v);
            out.push(PendingJob {
                key: JobKey(k.to_vec()),
                due_ms: (k.len() == JOB_KEY_LEN).then(|| due_of(k)).flatten(),
                table: job.as_ref().map(|j| j.table.clone()),
                id: job.as_ref().map(|j| j.id),
                problem,
            });
            Ok(true)
        },
    )?;
    Ok(out)
}

/// Removes one stored job; `true` when it was there.
pub(crate) fn remove(db: &Arc<Catalog>, key: &JobKey) -> Result<bool> {
    let mut store = WriteStore::begin(&db.engine)?;
    let found = store.get_meta(Space::Jobs, &key.0)?.is_some();
    if found {
        store.remove_meta(Space::Jobs, &key.0)?;
    }
    store.commit()?;
    Ok(found)
}
