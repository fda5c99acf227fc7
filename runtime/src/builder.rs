//! Configuring and opening a database: registration, settings, hooks, then schema validation
//! against the stored catalog and index builds.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::catalog::{
    Catalog, IndexBuildProgress, ProgressFn, Registration, build_index, link_tables, load_secret,
    reconcile, row_facts, validate_relations,
};
use crate::clock::{Clock, SystemClock};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::{Doc, Table, UniqueIndex};
use crate::query::Rules;
use crate::query::rules::RuleSet;
use crate::storage::memory::MemoryEngine;
use crate::storage::{AnyEngine, OpenOptions, RESERVED_PREFIX, RedbEngine, WriteStore};
use crate::write::group::GroupQueue;
use crate::write::hooks::{self, DeleteCause, UpdateCause};
use crate::write::notify::{Change, Notify};
use crate::write::{HookSet, TableOps, WriteSetup, WriteTx, table_ops};

/// Configures and opens a [`Db`]. Start with [`Db::builder`].
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// struct Note { text: String }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let dir = tempfile::tempdir().unwrap();
/// let db = Db::builder().table::<Note>().open(dir.path().join("notes.redb"))?;
/// # drop(db);
/// # Ok(()) }
/// ```
pub struct DbBuilder {
    tables: Vec<Registration>,
    ops: Vec<TableOps<WriteTx>>,
    strict: bool,
    fan_out_max_keys: usize,
    max_cascade_rows: usize,
    job_batch_rows: usize,
    released: Vec<(TypeId, usize)>,
    hooks: HookSet,
    clock: Arc<dyn Clock>,
    on_index_build: Option<ProgressFn>,
    notify: Notify,
    cache_size: Option<usize>,
    rules: RuleSet,
    group_window: std::time::Duration,
    /// The tables rules were given for, checked to be registered at open.
    ruled: Vec<(TypeId, &'static str)>,
}

impl std::fmt::Debug for DbBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbBuilder")
            .field(
                "tables",
                &self
                    .tables
                    .iter()
                    .map(|t| t.schema.name)
                    .collect::<Vec<_>>(),
            )
            .field("strict", &self.strict)
            .finish()
    }
}

impl Db {
    /// Starts configuring a database.
    pub fn builder() -> DbBuilder {
        DbBuilder {
            tables: Vec::new(),
            ops: Vec::new(),
            strict: true,
            fan_out_max_keys: 1000,
            max_cascade_rows: 10_000,
            job_batch_rows: 500,
            released: Vec::new(),
            hooks: HookSet::default(),
            clock: Arc::new(SystemClock),
            on_index_build: None,
            notify: Notify::default(),
            cache_size: None,
            rules: RuleSet::default(),
            group_window: std::time::Duration::ZERO,
            ruled: Vec::new(),
        }
    }
}

impl DbBuilder {
    /// Gives table `T` its read and write rules for viewers of type `V` (see [`Rules`]). A
    /// table with rules is read and written only by a viewer
    /// ([`Db::read_as`](crate::Db::read_as), [`Db::write_as`](crate::Db::write_as)) or as the
    /// system (`skip_rules()`). Rules for a table that is not registered are an error when the
    /// database opens; given twice for one table, the second replaces the first.
    pub fn rules<T: Table, V: Send + Sync + 'static>(mut self, rules: Rules<T, V>) -> Self {
        self.rules.add(rules);
        self.ruled.push((TypeId::of::<T>(), T::NAME));
        self
    }

    /// How long the first of several concurrent [`Db::write_grouped`] calls waits for others
    /// before their shared commit starts (default: zero — a batch holds whoever queued while
    /// the previous commit was being made durable, which under load is already many). A
    /// longer window trades each caller's latency for fewer commits.
    pub fn group_commit_window(mut self, window: std::time::Duration) -> Self {
        self.group_window = window;
        self
    }

    /// Registers a table. Every table the program reads or writes must be registered.
    pub fn table<T: Table>(mut self) -> Self {
        self.tables.push(Registration {
            type_id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
            schema: T::schema(),
            build_index: build_index::<T>,
            row_facts: row_facts::<T>,
        });
        self.ops.push(table_ops::<T>());
        self
    }

    /// Strict mode (the default, `true`): a query that no index serves is an error instead of
    /// a silent full-table scan.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The most distinct keys one level of a relation load may read (default 1000); a load
    /// that needs more fails with [`Error::FanOutExceeded`] unless the relation says
    /// `allow_fan_out()`.
    pub fn fan_out_max_keys(mut self, n: usize) -> Self {
        self.fan_out_max_keys = n;
        self
    }

    /// The most rows one delete may touch through its cascades and `on_delete` actions
    /// (default 10 000); a larger one is refused with [`Error::CascadeTooLarge`] before
    /// anything changes. Scheduled deletion has no such limit: it works in batches.
    pub fn max_cascade_rows(mut self, n: usize) -> Self {
        self.max_cascade_rows = n;
        self
    }

    /// The most rows one batch (one transaction) of a scheduled deletion removes (default 500).
    pub fn job_batch_rows(mut self, n: usize) -> Self {
        self.job_batch_rows = n;
        self
    }

    /// Makes a unique index ignore soft-deleted rows: their values can be taken by new rows
    /// (and `undelete` fails with [`Error::Unique`] if that happened). By default a
    /// soft-deleted row keeps its unique values, so undeleting it can never conflict.
    pub fn release_on_soft_delete<T: Table, K>(mut self, index: UniqueIndex<T, K>) -> Self {
        self.released.push((TypeId::of::<T>(), index.position()));
        self
    }

    /// Registers a hook run before a row of `T` is inserted; it may change the value or
    /// cancel the insert with an error. See the [hooks](crate::hooks) docs.
    pub fn before_insert<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &mut T) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        hooks::edit::<T>(&mut self.hooks, |h| h.before_insert.push(Arc::new(f)));
        self
    }

    /// Registers a hook run after a row of `T` was inserted.
    pub fn after_insert<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        hooks::edit::<T>(&mut self.hooks, |h| h.after_insert.push(Arc::new(f)));
        self
    }

    /// Registers a hook run before a row of `T` is rewritten, with the old row and the new
    /// value (which it may change); soft deletes and undeletes are updates too.
    pub fn before_update<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>, &mut T, &UpdateCause) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        hooks::edit::<T>(&mut self.hooks, |h| h.before_update.push(Arc::new(f)));
        self
    }

    /// Registers a hook run after a row of `T` was rewritten, with the old and new rows.
    pub fn after_update<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>, &Doc<T>, &UpdateCause) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        hooks::edit::<T>(&mut self.hooks, |h| h.after_update.push(Arc::new(f)));
        self
    }

    /// Registers a hook run before a row of `T` is removed (directly, by a cascade, or by a
    /// scheduled job); an error cancels the delete.
    pub fn before_delete<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>, &DeleteCause) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        hooks::edit::<T>(&mut self.hooks, |h| h.before_delete.push(Arc::new(f)));
        self
    }

    /// Registers a hook run after a row of `T` was removed, in the order rows are removed.
    pub fn after_delete<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>, &DeleteCause) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        hooks::edit::<T>(&mut self.hooks, |h| h.after_delete.push(Arc::new(f)));
        self
    }

    /// Registers a hook run after each commit that changed rows, with what it changed: one
    /// [`Change`] per row, its net effect (a row inserted and deleted in the same transaction
    /// is no change). It runs on the committing thread once the commit has succeeded — durable,
    /// under the default [`Durability::Immediate`](crate::Durability::Immediate) — and never for
    /// rolled-back work, nor for the part of a transaction a savepoint undid. Its error or
    /// panic does not undo the commit: it goes to [`on_after_commit_error`](Self::on_after_commit_error).
    ///
    /// ```
    /// use redorm::prelude::*;
    /// use redorm::{Change, ChangeKind};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(name = "notes")]
    /// struct Note { text: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let db = Db::builder()
    ///     .table::<Note>()
    ///     .after_commit(move |changes| {
    ///         log.lock().unwrap().extend_from_slice(changes);
    ///         Ok(())
    ///     })
    ///     .in_memory()?;
    /// let id = db.write(|tx| tx.insert(Note { text: "hi".into() }))?;
    /// let _ = db.write(|tx| -> redorm::Result<()> {
    ///     tx.insert(Note { text: "never".into() })?;
    ///     Err(redorm::Error::hook("rolled back"))
    /// });
    /// db.write(|tx| tx.delete(id))?;
    /// let kinds: Vec<ChangeKind> = seen.lock().unwrap().iter().map(|c| c.kind).collect();
    /// assert_eq!(kinds, [ChangeKind::Inserted, ChangeKind::Deleted]);
    /// # Ok(()) }
    /// ```
    pub fn after_commit(
        mut self,
        f: impl Fn(&[Change]) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.notify.after_commit.push(Arc::new(f));
        self
    }

    /// Where the errors and panics of [`after_commit`](Self::after_commit) hooks go (the
    /// commit they followed stands). Without one they are written to standard error.
    pub fn on_after_commit_error(mut self, f: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.notify.on_failure = Some(Arc::new(f));
        self
    }

    /// Replaces the clock the database stamps times from (see [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Called while opening, as indexes that are new to the file are built from its rows.
    pub fn on_index_build(mut self, f: impl FnMut(IndexBuildProgress<'_>) + 'static) -> Self {
        self.on_index_build = Some(Box::new(f));
        self
    }

    /// The size of redb's page cache for a file opened by [`open`](Self::open) or
    /// [`open_read_only`](Self::open_read_only), in bytes (default: redb's, 1 GiB). Memory is
    /// taken as pages are read, up to this size.
    pub fn cache_size(mut self, bytes: usize) -> Self {
        self.cache_size = Some(bytes);
        self
    }

    /// Opens (or creates) the database file at `path`, then checks the registered tables
    /// against the schema stored in it (see the crate docs on schema evolution).
    ///
    /// A file can be open in one `Db` at a time: opening one that another process (or another
    /// `Db` of this one) holds is [`Error::AlreadyOpen`], naming the path.
    pub fn open(self, path: impl AsRef<Path>) -> Result<Db> {
        self.check_registrations()?;
        let options = OpenOptions {
            cache_size: self.cache_size,
            read_only: false,
        };
        let engine = RedbEngine::open(path.as_ref(), options)?;
        self.finish(AnyEngine::Redb(engine))
    }

    /// Opens an existing database file for reading only: reads and queries work, and every
    /// write ([`Db::write`], [`Db::begin_write`], jobs, [`Db::compact`]) is refused with
    /// [`Error::ReadOnly`] naming the file. Several processes may open one file read-only at
    /// once, but not while a process has it open with [`open`](Self::open)
    /// ([`Error::AlreadyOpen`]). The registered tables must match the stored schema as it is:
    /// a change that opening would have to write (a new index or table, a new column version)
    /// is refused with [`Error::ReadOnly`].
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Note { text: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("notes.redb");
    /// let db = Db::builder().table::<Note>().open(&path)?;
    /// db.write(|tx| tx.insert(Note { text: "kept".into() }))?;
    /// drop(db);
    ///
    /// let db = Db::builder().table::<Note>().open_read_only(&path)?;
    /// assert_eq!(db.read()?.query::<Note>().count()?, 1);
    /// let err = db.write(|tx| tx.insert(Note { text: "no".into() })).unwrap_err();
    /// assert!(matches!(err, redorm::Error::ReadOnly { .. }));
    /// # Ok(()) }
    /// ```
    pub fn open_read_only(self, path: impl AsRef<Path>) -> Result<Db> {
        self.check_registrations()?;
        let options = OpenOptions {
            cache_size: self.cache_size,
            read_only: true,
        };
        let engine = RedbEngine::open(path.as_ref(), options)?;
        self.finish(AnyEngine::Redb(engine))
    }

    /// Opens a fresh database that lives in memory only, for tests and caches.
    pub fn in_memory(self) -> Result<Db> {
        self.check_registrations()?;
        self.finish(AnyEngine::Redb(RedbEngine::in_memory()?))
    }

    /// Opens the database on a [`MemoryEngine`] (for tests: fault injection, dumps of the
    /// committed state). Opening another database on the same engine reopens it, as opening a
    /// file again would.
    pub fn open_memory_engine(self, engine: &MemoryEngine) -> Result<Db> {
        self.check_registrations()?;
        self.finish(AnyEngine::Memory(engine.clone()))
    }

    fn check_registrations(&self) -> Result<()> {
        let mut names = HashSet::new();
        let mut types = HashSet::new();
        for reg in &self.tables {
            let name = reg.schema.name;
            if !types.insert(reg.type_id) {
                return Err(Error::Schema {
                    table: name.to_string(),
                    message: format!(
                        "`{}` is registered twice; register each table once",
                        reg.type_name
                    ),
                });
            }
            if !names.insert(name) {
                return Err(Error::Schema {
                    table: name.to_string(),
                    message: "two registered structs use this table name; give one of them \
                              another name with #[table(name = \"...\")]"
                        .to_string(),
                });
            }
            if name.is_empty() || name.starts_with(RESERVED_PREFIX) || name.contains('#') {
                return Err(Error::Schema {
                    table: name.to_string(),
                    message: format!(
                        "table names may not be empty, start with `{RESERVED_PREFIX}` or contain `#`; rename the table"
                    ),
                });
            }
        }
        Ok(())
    }

    fn finish(mut self, engine: AnyEngine) -> Result<Db> {
        let mut store = WriteStore::begin_open(&engine)?;
        let mut tables = Vec::with_capacity(self.tables.len());
        let mut by_type = HashMap::new();
        for (slot, reg) in self.tables.iter().enumerate() {
            let info = reconcile(&mut store, reg, &mut self.on_index_build)?;
            tables.push(info);
            by_type.insert(reg.type_id, slot);
        }
        validate_relations(&self.tables)?;
        if let Some((_, name)) = self.ruled.iter().find(|(t, _)| !by_type.contains_key(t)) {
            return Err(Error::Schema {
                table: (*name).to_string(),
                message: "rules were given for this table, but it is not registered; add \
                          .table::<..>() for it to the builder"
                    .to_string(),
            });
        }
        link_tables(&self.tables, &mut tables, &self.released);
        let secret = load_secret(&mut store)?;
        store.commit()?;
        Ok(Db {
            inner: Arc::new(Catalog {
                engine,
                tables,
                by_type,
                strict: self.strict,
                clock: self.clock,
                secret,
                fan_out_max_keys: self.fan_out_max_keys,
                max_cascade_rows: self.max_cascade_rows,
                job_batch_rows: self.job_batch_rows,
            }),
            setup: Arc::new(WriteSetup {
                hooks: self.hooks,
                ops: self.ops,
                notify: self.notify,
                rules: Arc::new(self.rules),
                group: GroupQueue::with_window(self.group_window),
            }),
        })
    }
}
