//! Scheduled deletion: jobs stored in the database, run by [`Db::run_due_jobs`](crate::Db::run_due_jobs) or a
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

mod runner;
mod store;
mod worker;

pub(crate) use runner::run_due;
pub use runner::{FailedJob, JobReport};
pub use store::{JobKey, PendingJob};
pub(crate) use store::{job_problem, pending, remove};
pub use worker::Worker;
