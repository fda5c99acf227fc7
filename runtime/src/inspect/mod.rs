//! Reading a redorm file without the application's structs: the schema the file's catalog
//! stores drives the decoding. What the `redorm` command-line inspector is built on.
//!
//! [`Inspector::open`] opens a file read-only (several inspectors, and applications that
//! opened it read-only, may read it at once; an application holding it writable makes it
//! [`InspectError::Locked`]). It lists the stored tables ([`Inspector::tables`]) with their
//! columns, indexes, foreign keys and relations, counts rows and index entries, decodes rows
//! into [`Row`]s of dynamic [`Value`]s ([`Inspector::rows`], [`Inspector::get`]), and runs
//! the library's own integrity check, job listing, backup and compaction on the stored
//! schema. Only [`Inspector::open_writable`] opens the file for writing, which
//! [`run_due_jobs`](Inspector::run_due_jobs) and [`compact`](Inspector::compact) need.
//!
//! **Filters and index use.** [`RowQuery`] filters are conditions `column op value`
//! ([`Condition`]); the inspector picks an index by the planner's documented rule over the
//! stored index definitions: the index whose leading columns have equality conditions (the
//! longest such prefix wins, the first declared on a tie), then one range on the next
//! column; with no equality, an index whose first column has a range; else the row table
//! (in id order). `--index` forces one. Every condition is checked again on each row read, so
//! the index only narrows what is read. [`RowPage::plan`] says what was read.
//!
//! The stored schema carries what decoding needs since catalog format 2 (foreign keys,
//! relations, delete mode, nullability): a file last opened by an older redorm shows
//! its columns and indexes, and the rest once an application opens it writable again.
//! Defaults (`#[default(...)]`) are the application's and not stored: a row written before a
//! column existed shows it as [`Value::Default`].
//!
//! **What the file does not say.** A relation's `by` field is not stored: `has_many`,
//! `has_one` and `many_to_many` relations are followed through the target's (or join
//! table's) one foreign key to the table, and are refused with [`InspectError::BadQuery`]
//! when there are several. Which unique indexes release soft-deleted values
//! (`release_on_soft_delete`) is a setting of the application: the integrity check treats
//! them as not released. Column types implemented outside redorm are shown but not decoded
//! ([`InspectError::UnsupportedType`]).
//!
//! ```
//! use redorm::prelude::*;
//! use redorm::inspect::{Inspector, RowQuery};
//!
//! #[derive(Table, Debug)]
//! #[table(name = "users")]
//! struct User { #[unique] email: String, age: u32 }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("app.redb");
//! let db = Db::builder().table::<User>().open(&path)?;
//! db.write(|tx| tx.insert(User { email: "ada@example.com".into(), age: 36 }))?;
//! drop(db);
//!
//! let inspector = Inspector::open(&path)?;
//! assert_eq!(inspector.tables()[0].name, "users");
//! let page = inspector.rows(&RowQuery::new("users").filter("email=ada@example.com".parse()?))?;
//! assert_eq!(page.rows[0].to_json(), r#"{"id":"users:1","created_at":"#.to_string()
//!     + &page.rows[0].created_at.to_string() + r#","email":"ada@example.com","age":36}"#);
//! assert_eq!(page.plan.to_string(), "unique index `by_email` of `users`: email = ada@example.com");
//! # Ok(()) }
//! ```

mod query;
mod schema;
mod value;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use query::{Condition, Deleted, Op, Plan, Related, Row, RowPage, RowQuery};
pub use schema::{ColumnDesc, ForeignKeyDesc, IndexDesc, RelationDesc, TableDesc};
pub use value::{ColumnType, Value};

use crate::catalog::{Catalog, TableInfo};
use crate::clock::SystemClock;
use crate::codec::seal::SealKey;
use crate::db::Db;
use crate::error::Error;
use crate::integrity::IntegrityReport;
use crate::jobs::{JobReport, PendingJob};
use crate::operations::BackupReport;
use crate::storage::{AnyEngine, OpenOptions, ReadStore, RedbEngine};
use crate::write::notify::Notify;
use crate::write::{HookSet, WriteSetup};

/// Why the inspector refused, naming the file, table, column or value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// The path does not exist.
    #[error("`{}` does not exist", .path.display())]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// The file is not a redb database.
    #[error("`{}` is not a redb database file ({detail})", .path.display())]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// What the storage engine said.
        detail: String,
    },
    /// A redb database that redorm never opened: it has no redorm catalog.
    #[error("`{}` is a redb database without a redorm catalog (no table was ever registered in it)", .path.display())]
    NoCatalog {
        /// The file.
        path: PathBuf,
    },
    /// A table's stored schema was written by a newer redorm.
    #[error(
        "the stored schema of table `{table}` is in catalog format {found}, written by a newer \
         redorm; this one reads formats up to {supported}: upgrade redorm"
    )]
    NewerFormat {
        /// The table.
        table: String,
        /// The format found.
        found: u64,
        /// The newest format this version reads.
        supported: u32,
    },
    /// Another process (an application) holds the file open for writing.
    #[error(
        "`{}` is held open by another process (a running application?); stop it, or inspect a \
         backup of the file", .path.display()
    )]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// No such table in the file.
    #[error("no table `{table}` in the file; it has: {}", .known.join(", "))]
    UnknownTable {
        /// The name asked for.
        table: String,
        /// The tables the file has.
        known: Vec<String>,
    },
    /// No such column in the table.
    #[error("table `{table}` has no column `{column}`; it has: {}", .known.join(", "))]
    UnknownColumn {
        /// The table.
        table: String,
        /// The name asked for.
        column: String,
        /// The columns the table has.
        known: Vec<String>,
    },
    /// No such index in the table.
    #[error("table `{table}` has no index `{index}`; it has: {}", .known.join(", "))]
    UnknownIndex {
        /// The table.
        table: String,
        /// The name asked for.
        index: String,
        /// The indexes the table has.
        known: Vec<String>,
    },
    /// No such relation on the table.
    #[error("table `{table}` has no relation `{relation}`; it has: {}", .known.join(", "))]
    UnknownRelation {
        /// The table.
        table: String,
        /// The name asked for.
        relation: String,
        /// The relations the table has.
        known: Vec<String>,
    },
    /// A value that does not parse as its column's type.
    #[error("bad value for `{table}.{column}`: {reason}")]
    BadValue {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Why.
        reason: String,
    },
    /// A condition that is not `column op value`.
    #[error("malformed condition `{input}`: {reason}")]
    BadCondition {
        /// The text given.
        input: String,
        /// Why.
        reason: String,
    },
    /// A row id that is not `table:number`.
    #[error("malformed row id `{input}`: {reason}")]
    BadId {
        /// The text given.
        input: String,
        /// Why.
        reason: String,
    },
    /// A cursor that this query did not hand out.
    #[error("invalid cursor `{cursor}`: {reason}")]
    BadCursor {
        /// The cursor given.
        cursor: String,
        /// Why.
        reason: String,
    },
    /// A query the stored schema cannot serve as asked.
    #[error("cannot query `{table}`: {reason}")]
    BadQuery {
        /// The table.
        table: String,
        /// Why, and what to do.
        reason: String,
    },
    /// A column of a type the inspector does not decode (implemented outside redorm).
    #[error("column `{table}.{column}` has type `{type_name}`, which the inspector cannot decode")]
    UnsupportedType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its stored type name.
        type_name: String,
    },
    /// An error of the library (a damaged file, a read-only refusal, …).
    #[error(transparent)]
    Redorm(#[from] Error),
}

impl InspectError {
    /// Whether the error is about what was asked (a path, name, value, id or cursor) rather
    /// than about the file's contents or the system: what a command line reports as a usage
    /// error.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, InspectError::Redorm(_))
    }
}

/// A redorm file opened by its stored schema. See the [module docs](self).
pub struct Inspector {
    db: Db,
    path: PathBuf,
    tables: Vec<TableDesc>,
    writable: bool,
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector")
            .field("path", &self.path)
            .field(
                "tables",
                &self.tables.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .field("writable", &self.writable)
            .finish()
    }
}

/// Counts of one stored table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableCounts {
    /// Rows not soft-deleted.
    pub live: u64,
    /// Soft-deleted rows.
    pub deleted: u64,
    /// Entries of each index, in schema order.
    pub index_entries: Vec<u64>,
}

/// Sizes in the file, from [`Inspector::stats`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// The file's size on disk, in bytes.
    pub file_bytes: u64,
    /// Per table: name, rows, and the bytes of its keys and values.
    pub tables: Vec<SpaceSize>,
    /// Per index (`table#index`): entries and the bytes of its keys.
    pub indexes: Vec<SpaceSize>,
}

/// One keyspace's size: entries and the bytes of their keys and values (the data, without
/// the engine's pages and free space).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpaceSize {
    /// The table, or `table#index`.
    pub name: String,
    /// Entries.
    pub entries: u64,
    /// Bytes of keys and values.
    pub bytes: u64,
}

impl Inspector {
    /// Opens the file at `path` for reading only.
    pub fn open(path: impl AsRef<Path>) -> Result<Inspector, InspectError> {
        Self::open_with(path.as_ref(), false)
    }

    /// Opens the file at `path` for reading and writing: what
    /// [`run_due_jobs`](Self::run_due_jobs) and [`compact`](Self::compact) need. It creates
    /// nothing: the file must exist and hold a redorm catalog.
    pub fn open_writable(path: impl AsRef<Path>) -> Result<Inspector, InspectError> {
        Self::open_with(path.as_ref(), true)
    }

    fn open_with(path: &Path, writable: bool) -> Result<Inspector, InspectError> {
        if !path.exists() {
            return Err(InspectError::NotFound {
                path: path.to_path_buf(),
            });
        }
        if !path.is_file() {
            return Err(InspectError::NotADatabase {
                path: path.to_path_buf(),
                detail: "it is a directory, not a file".to_string(),
            });
        }
        let options = OpenOptions {
            cache_size: None,
            read_only: !writable,
        };
        let engine = RedbEngine::open(path, options).map_err(|e| match e {
            Error::AlreadyOpen { path } => InspectError::Locked { path },
            Error::Storage(e) => InspectError::NotADatabase {
                path: path.to_path_buf(),
                detail: e.to_string(),
            },
            e => InspectError::Redorm(e),
        })?;
        let engine = AnyEngine::Redb(engine);
        let stored = {
            let store = ReadStore::begin(&engine)?;
            schema::read_catalog(&store)?
        };
        let Some(stored) = stored else {
            return Err(InspectError::NoCatalog {
                path: path.to_path_buf(),
            });
        };
        let infos: Vec<TableInfo> = schema::table_infos(&stored);
        let tables = stored.into_iter().map(|s| s.desc).collect();
        let db = Db {
            inner: Arc::new(Catalog {
                engine,
                tables: infos,
                by_type: HashMap::new(),
                strict: false,
                clock: Arc::new(SystemClock),
                // The inspector hands out no sealed cursors: a fresh key, never stored.
                secret: SealKey::generate()?,
                fan_out_max_keys: 1000,
                max_cascade_rows: 10_000,
                job_batch_rows: 500,
            }),
            setup: Arc::new(WriteSetup {
                hooks: HookSet::default(),
                ops: query::dynamic_ops(),
                notify: Notify::default(),
                ..WriteSetup::default()
            }),
        };
        Ok(Inspector {
            db,
            path: path.to_path_buf(),
            tables,
            writable,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file was opened with [`open_writable`](Self::open_writable).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The stored tables, in name order.
    pub fn tables(&self) -> &[TableDesc] {
        &self.tables
    }

    /// Table `name`.
    pub fn table(&self, name: &str) -> Result<&TableDesc, InspectError> {
        self.slot(name).map(|slot| &self.tables[slot])
    }

    fn slot(&self, name: &str) -> Result<usize, InspectError> {
        self.tables
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| InspectError::UnknownTable {
                table: name.to_string(),
                known: self.tables.iter().map(|t| t.name.clone()).collect(),
            })
    }

    fn info(&self, slot: usize) -> &TableInfo {
        &self.db.inner.tables[slot]
    }

    /// Live and soft-deleted rows of table `name`, and the entries of each of its indexes.
    pub fn counts(&self, name: &str) -> Result<TableCounts, InspectError> {
        let slot = self.slot(name)?;
        let store = ReadStore::begin(&self.db.inner.engine)?;
        let (live, deleted) = schema::count_rows(&store, name)?;
        let index_entries = self
            .info(slot)
            .index_tables
            .iter()
            .map(|t| schema::index_size(&store, t).map(|(n, _)| n))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(TableCounts {
            live,
            deleted,
            index_entries,
        })
    }

    /// The library's integrity check ([`Db::check_integrity`]) over every stored table,
    /// decoding rows by the stored schema. Unique indexes the application releases on soft
    /// delete (`release_on_soft_delete`, a setting not stored in the file) are checked as not
    /// released.
    pub fn check(&self) -> Result<IntegrityReport, InspectError> {
        Ok(self.db.check_integrity()?)
    }

    /// The stored jobs ([`Db::pending_jobs`]), in the order they fall due.
    pub fn pending_jobs(&self) -> Result<Vec<PendingJob>, InspectError> {
        Ok(self.db.pending_jobs()?)
    }

    /// Runs the scheduled deletions that are due by the system clock ([`Db::run_due_jobs`]),
    /// with the stored `on_delete` actions (`cascade`, `set_null`; `set_default` needs the
    /// application's default and fails the job). Needs [`open_writable`](Self::open_writable).
    /// Up to 64 tables.
    pub fn run_due_jobs(&self) -> Result<JobReport, InspectError> {
        if !self.writable {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
                operation: "running jobs",
            }
            .into());
        }
        if self.tables.len() > query::MAX_TABLES {
            return Err(InspectError::BadQuery {
                table: self
                    .tables
                    .last()
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                reason: format!(
                    "the inspector runs jobs on files of up to {} tables; run them from the application",
                    query::MAX_TABLES
                ),
            });
        }
        Ok(self.db.run_due_jobs()?)
    }

    /// A consistent copy of the whole file at `dest`, which must not exist
    /// ([`Db::backup_to`]).
    pub fn backup_to(&self, dest: impl AsRef<Path>) -> Result<BackupReport, InspectError> {
        Ok(self.db.backup_to(dest)?)
    }

    /// redb's compaction ([`Db::compact`]): `true` when it moved anything. Needs
    /// [`open_writable`](Self::open_writable).
    pub fn compact(&self) -> Result<bool, InspectError> {
        Ok(self.db.compact()?)
    }

    /// The file's size, and each table's and index's entries and data bytes.
    pub fn stats(&self) -> Result<Stats, InspectError> {
        let file_bytes = std::fs::metadata(&self.path)
            .map(|m| m.len())
            .unwrap_or_default();
        let store = ReadStore::begin(&self.db.inner.engine)?;
        let mut stats = Stats {
            file_bytes,
            ..Stats::default()
        };
        for info in &self.db.inner.tables {
            let (entries, bytes) = schema::rows_size(&store, info.schema.name)?;
            stats.tables.push(SpaceSize {
                name: info.schema.name.to_string(),
                entries,
                bytes,
            });
            for index in &info.index_tables {
                let (entries, bytes) = schema::index_size(&store, index)?;
                stats.indexes.push(SpaceSize {
                    name: index.clone(),
                    entries,
                    bytes,
                });
            }
        }
        Ok(stats)
    }

    /// Parses a row id of the form `table:number`, checking that the table exists.
    pub fn parse_id(&self, input: &str) -> Result<(String, u64), InspectError> {
        let bad = |reason: String| InspectError::BadId {
            input: input.to_string(),
            reason,
        };
        let Some((table, number)) = input.rsplit_once(':') else {
            return Err(bad(
                "expected the form `table:number`, e.g. `users:42`".into()
            ));
        };
        let canonical = !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
            && !number.starts_with('0');
        let id = number
            .parse::<u64>()
            .ok()
            .filter(|_| canonical)
            .ok_or_else(|| {
                bad(format!(
                    "`{number}` is not a row number (a positive integer without sign or leading zeros)"
                ))
            })?;
        self.slot(table)?;
        Ok((table.to_string(), id))
    }
}
