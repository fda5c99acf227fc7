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
use std::path::Path;

use layout::st;
pub(crate) use read::RedbRead;
pub(crate) use write::RedbWrite;
use write::{OpenTables, WriteCell};

use redb::ReadableDatabase;

use super::engine::Engine;
use crate::error::Result;

/// The engine over one redb database (a file, or redb's in-memory backend).
pub(crate) struct RedbEngine {
    db: redb::Database,
}

impl RedbEngine {
    /// Opens (or creates) the database file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        Ok(RedbEngine {
            db: redb::Database::create(path).map_err(st)?,
        })
    }

    /// A fresh database in memory.
    pub(crate) fn in_memory() -> Result<Self> {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(st)?;
        Ok(RedbEngine { db })
    }
}

impl Engine for RedbEngine {
    type Read = RedbRead;
    type Write = RedbWrite;

    fn begin_read(&self) -> Result<RedbRead> {
        Ok(RedbRead {
            txn: self.db.begin_read().map_err(st)?,
            rows: RefCell::new(Vec::new()),
            indexes: RefCell::new(Vec::new()),
        })
    }

    fn begin_write(&self) -> Result<RedbWrite> {
        let txn = self.db.begin_write().map_err(st)?;
        Ok(RedbWrite {
            cell: Some(WriteCell::new(txn, |_| OpenTables::default())),
        })
    }
}
