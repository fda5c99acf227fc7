//! The storage seam mapped onto redb: the only file of the crate that names redb.
//!
//! Each keyspace is one redb table, typed so the file stays readable with redb's own tools:
//!
//! | keyspace | redb table | key | value |
//! |---|---|---|---|
//! | `Rows(t)` | `t` | `u64` | `&[u8]` |
//! | `Index(i)` | `t#index` | `&[u8]` | `()` |
//! | `Catalog` | `__redorm_catalog` | `&str` | `&[u8]` |
//! | `Seq` | `__redorm_seq` | `&str` | `u64` |
//! | `Jobs` | `__redorm_jobs` | `&[u8]` | `&[u8]` |
//!
//! Row and index tables, used on every operation, stay open for the transaction's lifetime:
//! redb opens a table with a lookup in its table tree, too slow to repeat per call. The
//! internal tables are opened per use.

mod layout;
mod read;
mod write;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use layout::st;
pub(crate) use read::RedbRead;
pub(crate) use write::RedbWrite;
use write::{OpenTables, WriteCell};

use redb::ReadableDatabase;

use super::engine::Engine;
use crate::error::{Error, Result};

/// How the file was opened.
enum Handle {
    Writable(redb::Database),
    ReadOnly(redb::ReadOnlyDatabase),
}

/// The engine over one redb database (a file, or redb's in-memory backend).
///
/// The handle sits behind a lock that transactions take only while they begin: redb's
/// `compact` and `check_integrity` need the handle exclusively (and refuse while any
/// transaction is open).
pub(crate) struct RedbEngine {
    db: RwLock<Handle>,
    path: Option<PathBuf>,
}

/// How to open a file.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OpenOptions {
    /// redb's page cache, in bytes (`None`: redb's default).
    pub(crate) cache_size: Option<usize>,
    /// Open an existing file for reading only.
    pub(crate) read_only: bool,
}

impl RedbEngine {
    /// Opens (or, unless read-only, creates) the database file at `path`.
    pub(crate) fn open(path: &Path, options: OpenOptions) -> Result<Self> {
        let mut builder = redb::Database::builder();
        if let Some(bytes) = options.cache_size {
            builder.set_cache_size(bytes);
        }
        let handle = if options.read_only {
            if !path.exists() {
                return Err(Error::FileNotFound {
                    path: path.to_path_buf(),
                });
            }
            builder.open_read_only(path).map(Handle::ReadOnly)
        } else {
            builder.create(path).map(Handle::Writable)
        }
        .map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => Error::AlreadyOpen {
                path: path.to_path_buf(),
            },
            e => st(e),
        })?;
        Ok(RedbEngine {
            db: RwLock::new(handle),
            path: Some(path.to_path_buf()),
        })
    }

    /// A fresh database in memory.
    pub(crate) fn in_memory() -> Result<Self> {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(st)?;
        Ok(RedbEngine {
            db: RwLock::new(Handle::Writable(db)),
            path: None,
        })
    }

    /// The file, for messages (`None`: in memory).
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether the file was opened for reading only.
    pub(crate) fn is_read_only(&self) -> bool {
        matches!(*self.handle(), Handle::ReadOnly(_))
    }

    fn handle(&self) -> RwLockReadGuard<'_, Handle> {
        // A panic while the lock was held left the handle as it was: redb's own state is
        // guarded by redb.
        self.db.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn exclusive<R>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut redb::Database) -> Result<R>,
    ) -> Result<R> {
        // Never wait for the lock: a transaction beginning holds it while redb makes it wait
        // for the writer, and a waiting exclusive lock would block every reader behind it
        // (a writer's hook that reads would then wait forever). Contention means a
        // transaction is starting: redb would refuse anyway.
        let mut guard = match self.db.try_write() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(self.busy(operation)),
        };
        match &mut *guard {
            Handle::Writable(db) => f(db),
            Handle::ReadOnly(_) => Err(self.read_only_error(operation)),
        }
    }

    pub(crate) fn read_only_error(&self, operation: &'static str) -> Error {
        Error::ReadOnly {
            path: self.path.clone().unwrap_or_default(),
            operation,
        }
    }

    fn busy(&self, operation: &'static str) -> Error {
        Error::Busy {
            path: self.path.clone().unwrap_or_default(),
            operation,
        }
    }

    /// redb's compaction: gives free pages back to the file system. `true` when it moved
    /// anything.
    pub(crate) fn compact(&self) -> Result<bool> {
        self.exclusive("compact", |db| match db.compact() {
            Ok(done) => Ok(done),
            Err(redb::CompactionError::TransactionInProgress)
            | Err(redb::CompactionError::EphemeralSavepointExists)
            | Err(redb::CompactionError::PersistentSavepointExists) => Err(self.busy("compact")),
            Err(e) => Err(st(e)),
        })
    }

    /// redb's own check of the file (page checksums, allocator state); repairs what redb can.
    /// `true` when the file was sound.
    pub(crate) fn check_file(&self) -> Result<bool> {
        self.exclusive("check_file", |db| match db.check_integrity() {
            Ok(sound) => Ok(sound),
            Err(redb::DatabaseError::TransactionInProgress) => Err(self.busy("check_file")),
            Err(e) => Err(st(e)),
        })
    }
}

impl Engine for RedbEngine {
    type Read = RedbRead;
    type Write = RedbWrite;

    fn begin_read(&self) -> Result<RedbRead> {
        let txn = match &*self.handle() {
            Handle::Writable(db) => db.begin_read(),
            Handle::ReadOnly(db) => db.begin_read(),
        };
        Ok(RedbRead {
            txn: txn.map_err(st)?,
            rows: RefCell::new(Vec::new()),
            indexes: RefCell::new(Vec::new()),
        })
    }

    fn begin_write(&self) -> Result<RedbWrite> {
        let txn = match &*self.handle() {
            Handle::Writable(db) => db.begin_write().map_err(st)?,
            Handle::ReadOnly(_) => return Err(self.read_only_error("write")),
        };
        Ok(RedbWrite {
            cell: Some(WriteCell::new(txn, |_| OpenTables::default())),
        })
    }
}
