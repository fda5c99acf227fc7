//! The background worker: a thread that runs due jobs at an interval until stopped.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::runner::{JobReport, run_due};
use crate::catalog::Catalog;
use crate::write::WriteSetup;

type LastRun = Arc<std::sync::Mutex<Option<std::result::Result<JobReport, String>>>>;

/// A background thread running scheduled deletions; from [`Db::start_worker`](crate::Db::start_worker). Dropping it
/// stops the thread (after the run in progress, if any).
#[derive(Debug)]
pub struct Worker {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<thread::JoinHandle<()>>,
    last: LastRun,
}

impl Worker {
    /// Starts the thread: it runs due jobs every `every` until stopped.
    pub(crate) fn start(db: Arc<Catalog>, setup: Arc<WriteSetup>, every: Duration) -> Worker {
        let (stop, stopped) = mpsc::channel::<()>();
        let last: LastRun = Arc::default();
        let out = last.clone();
        let handle = thread::spawn(move || {
            loop {
                let result = run_due(&db, &setup).map_err(|e| e.to_string());
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
