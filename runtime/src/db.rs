//! Opening a database: registration, schema validation against the stored catalog, index
//! builds.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::catalog::{
    Catalog, IndexBuildProgress, ProgressFn, Registration, build_index, link_tables, load_secret,
    reconcile, row_facts, validate_relations,
};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::integrity::{self, IntegrityReport};
use crate::jobs::{self, JobKey, JobReport, PendingJob, Worker};
use crate::model::{Doc, Table, TableSchema, UniqueIndex};
use crate::storage::memory::MemoryEngine;

use crate::storage::{AnyEngine, RESERVED_PREFIX, ReadStore, RedbEngine, WriteStore};
use crate::tx::ReadTx;
use crate::write::hooks::{self, DeleteCause, UpdateCause};
use crate::write::{HookSet, TableOps, WriteSetup, WriteTx, table_ops};

/// An open database. Cheap to clone (an `Arc` inside), `Send + Sync + 'static`: put it in your
/// application state and share it between threads.
///
/// ```
/// use redorm::prelude::*;
///
/// #[derive(Table, Debug, Clone, PartialEq)]
/// #[table(name = "users")]
/// struct User {
///     #[unique]
///     email: String,
///     name: String,
/// }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder().table::<User>().in_memory()?;
/// let id = db.write(|tx| {
///     tx.insert(User { email: "ada@example.com".into(), name: "Ada".into() })
/// })?;
/// let tx = db.read()?;
/// let ada = tx.get(id)?.expect("just inserted");
/// assert_eq!(ada.name, "Ada");
/// assert_eq!(tx.get_by(User::by_email(), "ada@example.com")?.map(|d| d.id), Some(id));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<Catalog>,
    setup: Arc<WriteSetup>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field(
                "tables",
                &self
                    .inner
                    .tables
                    .iter()
                    .map(|t| t.schema.name)
                    .collect::<Vec<_>>(),
            )
            .field("strict", &self.inner.strict)
            .finish()
    }
}

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
        }
    }

    /// Begins a read transaction: a consistent snapshot of the database as of now, unaffected
    /// by later writes. Any number may be open at once, beside a writer.
    pub fn read(&self) -> Result<ReadTx> {
        let store = ReadStore::begin(&self.inner.engine)?;
        Ok(ReadTx::new(self.inner.clone(), store))
    }

    /// Runs `f` in a write transaction: commits when it returns `Ok`, rolls everything back
    /// when it returns `Err`. Writers take turns (redb has one writer at a time).
    pub fn write<R>(&self, f: impl FnOnce(&mut WriteTx) -> Result<R>) -> Result<R> {
        let mut tx = self.begin_write()?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Begins a write transaction to be finished with [`WriteTx::commit`]; dropping it without
    /// committing rolls it back.
    pub fn begin_write(&self) -> Result<WriteTx> {
        WriteTx::begin(&self.inner, &self.setup)
    }

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
        jobs::run_due(&self.inner, &self.setup)
    }

    /// Checks that the file holds what redorm keeps in step, in one read snapshot (writers go
    /// on meanwhile): every row decodes, every row has exactly its index entries and every
    /// index entry its row, unique indexes hold no duplicate, every foreign key points at an
    /// existing row, no counter (id sequence, delete token, job number) is behind a number in
    /// use, and every stored job can run. Reads every row and index entry, and holds one
    /// table's index keys in memory at a time.
    ///
    /// A problem in the report means the file was damaged or written by other code than
    /// redorm: no redorm write leaves one behind (its tests check that after crashes, faults
    /// and concurrent use).
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug, Clone)]
    /// struct Author { #[unique] name: String }
    /// #[derive(Table, Debug, Clone)]
    /// struct Book { #[belongs_to(author, Author)] author_id: Id<Author>, title: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Author>().table::<Book>().in_memory()?;
    /// db.write(|tx| {
    ///     let le_guin = tx.insert(Author { name: "Le Guin".into() })?;
    ///     tx.insert(Book { author_id: le_guin, title: "The Dispossessed".into() })?;
    ///     Ok(())
    /// })?;
    /// let report = db.check_integrity()?;
    /// assert!(report.is_ok(), "{report}");
    /// assert_eq!((report.tables, report.rows, report.index_entries), (2, 2, 2));
    /// # Ok(()) }
    /// ```
    pub fn check_integrity(&self) -> Result<IntegrityReport> {
        integrity::check(&self.inner)
    }

    /// Every stored job (scheduled deletion), in the order they fall due, with what keeps a
    /// job from running if anything does (a damaged key or value, an unregistered table).
    ///
    /// ```
    /// use redorm::prelude::*;
    /// use redorm::ManualClock;
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(name = "uploads", delete = scheduled(delay = "1h"))]
    /// struct Upload { name: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Upload>().clock(ManualClock::new(0)).in_memory()?;
    /// let id = db.write(|tx| tx.insert(Upload { name: "a.png".into() }))?;
    /// db.write(|tx| tx.delete(id))?;
    /// let jobs = db.pending_jobs()?;
    /// assert_eq!(jobs.len(), 1);
    /// assert_eq!((jobs[0].table.as_deref(), jobs[0].id), (Some("uploads"), Some(id.get())));
    /// assert_eq!((jobs[0].due_ms, &jobs[0].problem), (Some(3_600_000), &None));
    /// // Dropping a job by hand leaves the row soft-deleted for good.
    /// assert!(db.remove_job(&jobs[0].key)?);
    /// assert!(db.pending_jobs()?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn pending_jobs(&self) -> Result<Vec<PendingJob>> {
        jobs::pending(&self.inner)
    }

    /// Removes one stored job, found with [`pending_jobs`](Db::pending_jobs); `true` when it
    /// was there. For a job that can never run (see [`PendingJob::problem`]); the row it
    /// would have purged stays as it is.
    pub fn remove_job(&self, key: &JobKey) -> Result<bool> {
        jobs::remove(&self.inner, key)
    }

    /// Starts a thread that calls [`run_due_jobs`](Db::run_due_jobs) every `every` until the
    /// returned [`Worker`] is stopped or dropped.
    pub fn start_worker(&self, every: Duration) -> Worker {
        Worker::start(self.inner.clone(), self.setup.clone(), every)
    }

    /// The schema of each registered table, in registration order.
    pub fn tables(&self) -> impl Iterator<Item = &TableSchema> {
        self.inner.tables.iter().map(|t| &t.schema)
    }
}

impl DbBuilder {
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

    /// Opens (or creates) the database file at `path`, then checks the registered tables
    /// against the schema stored in it (see the crate docs on schema evolution).
    pub fn open(self, path: impl AsRef<Path>) -> Result<Db> {
        self.check_registrations()?;
        let engine = RedbEngine::open(path.as_ref())?;
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
        let mut store = WriteStore::begin(&engine)?;
        let mut tables = Vec::with_capacity(self.tables.len());
        let mut by_type = HashMap::new();
        for (slot, reg) in self.tables.iter().enumerate() {
            let info = reconcile(&mut store, reg, &mut self.on_index_build)?;
            tables.push(info);
            by_type.insert(reg.type_id, slot);
        }
        validate_relations(&self.tables)?;
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
            }),
        })
    }
}
