//! The open database: transactions, jobs, integrity, subscriptions.

use std::sync::Arc;
use std::time::Duration;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::integrity::{self, IntegrityReport};
use crate::jobs::{self, JobKey, JobReport, PendingJob, Worker};
use crate::model::{Table, TableSchema};

use crate::query::rules::Viewing;
use crate::storage::ReadStore;
use crate::tx::ReadTx;
use crate::write::notify::{RowChange, Subscription};
use crate::write::{WriteSetup, WriteTx};

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
    pub(crate) setup: Arc<WriteSetup>,
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

impl Db {
    /// Begins a read transaction: a consistent snapshot of the database as of now, unaffected
    /// by later writes. Any number may be open at once, beside a writer.
    ///
    /// It reads as nobody: a table with [`Rules`](crate::Rules) refuses it
    /// ([`Error::Denied`]) — read as a viewer with [`read_as`](Db::read_as), or as the system
    /// with `db.read()?.skip_rules()`.
    pub fn read(&self) -> Result<ReadTx> {
        let store = ReadStore::begin(&self.inner.engine)?;
        Ok(ReadTx::new(
            self.inner.clone(),
            store,
            Viewing::nobody(self.setup.rules.clone()),
        ))
    }

    /// Begins a read transaction as `viewer`: every table's read rule is built from it (once,
    /// now) and applies to every read (see [`Rules`](crate::Rules)). A viewer of another type
    /// than a table's rules take is [`Error::Denied`].
    pub fn read_as<V: Clone + Send + Sync + 'static>(&self, viewer: &V) -> Result<ReadTx> {
        let view = Viewing::viewer(self.setup.rules.clone(), viewer.clone())?;
        let store = ReadStore::begin(&self.inner.engine)?;
        Ok(ReadTx::new(self.inner.clone(), store, view))
    }

    /// Runs `f` in a write transaction as `viewer`, as [`write`](Db::write) does: reads see
    /// what the viewer may read, and each insert, update and delete is checked against the
    /// table's rules ([`Error::Denied`], nothing written). Hooks run in the same transaction,
    /// as the same viewer.
    pub fn write_as<V: Clone + Send + Sync + 'static, R>(
        &self,
        viewer: &V,
        f: impl FnOnce(&mut WriteTx) -> Result<R>,
    ) -> Result<R> {
        let view = Viewing::viewer(self.setup.rules.clone(), viewer.clone())?;
        let mut tx = self.begin_write()?;
        tx.view = view;
        let _in_tx = tx.store.span.enter();
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in a write transaction: commits when it returns `Ok`, rolls everything back
    /// when it returns `Err`. Writers take turns (redb has one writer at a time).
    pub fn write<R>(&self, f: impl FnOnce(&mut WriteTx) -> Result<R>) -> Result<R> {
        let mut tx = self.begin_write()?;
        let _in_tx = tx.store.span.enter();
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` as [`write`](Db::write) does, but shares the transaction and its durable
    /// commit with other threads' `write_grouped` calls made meanwhile (group commit): many
    /// small durable writes from many threads then pay for one fsync together.
    ///
    /// Each call is still all or nothing on its own: `f` runs under a savepoint, so its `Err`
    /// (or panic, which is raised again in the calling thread) takes back only its own
    /// writes, and the other callers' work commits. It returns once the shared commit is
    /// durable; if that commit fails, every call of the batch fails and none of it is kept.
    /// Closures of one batch run one after another, in the order they were queued, each
    /// seeing the writes of those before it (as if they were successive transactions). It is
    /// opt-in: a lone caller pays nothing extra, but under contention a call may wait for the
    /// batch in flight. The closure and its result cross threads (`Send + 'static`); writes run
    /// as nobody (tables with rules are refused: use [`write_as`](Db::write_as) for those).
    /// [`DbBuilder::group_commit_window`](crate::DbBuilder::group_commit_window) sets how long
    /// a batch waits to fill.
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Event { #[unique] key: u32 }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Event>().in_memory()?;
    /// let threads: Vec<_> = (0..4u32)
    ///     .map(|t| {
    ///         let db = db.clone();
    ///         std::thread::spawn(move || {
    ///             for i in 0..10 {
    ///                 db.write_grouped(move |tx| tx.insert(Event { key: t * 100 + i }))?;
    ///             }
    ///             // A refused write takes back only its own work.
    ///             let dup = db.write_grouped(move |tx| tx.insert(Event { key: t * 100 }));
    ///             assert!(dup.is_err());
    ///             Ok::<_, redorm::Error>(())
    ///         })
    ///     })
    ///     .collect();
    /// for t in threads {
    ///     t.join().unwrap()?;
    /// }
    /// assert_eq!(db.read()?.query::<Event>().count()?, 40);
    /// # Ok(()) }
    /// ```
    pub fn write_grouped<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut WriteTx) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        crate::write::group::write_grouped(&self.inner, &self.setup, f)
    }

    /// Runs `f` in a write transaction, as [`write`](Db::write) does, for a closure that returns
    /// an error type of your own: any `E` that a [`redorm::Error`](Error) converts into, so `?`
    /// works on redorm's errors and on yours alike. Commits on `Ok`, rolls back on `Err`.
    ///
    /// (`write` itself stays with `redorm::Error`: a closure that uses `?` and ends in `Ok(..)`
    /// then needs no annotation. Here, name your error type once, on the closure or the call.)
    ///
    /// ```
    /// use redorm::prelude::*;
    ///
    /// #[derive(Table, Debug)]
    /// struct Account { #[unique] name: String, cents: i64 }
    ///
    /// #[derive(Debug)]
    /// enum AppError { Db(redorm::Error), Overdrawn(i64) }
    /// impl From<redorm::Error> for AppError {
    ///     fn from(e: redorm::Error) -> Self { AppError::Db(e) }
    /// }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Account>().in_memory()?;
    /// let id = db.write(|tx| tx.insert(Account { name: "a".into(), cents: 100 }))?;
    /// let spend = |cents: i64| {
    ///     db.transaction(|tx| -> Result<i64, AppError> {
    ///         let left = tx.get(id)?.map_or(0, |a| a.cents) - cents;
    ///         if left < 0 {
    ///             return Err(AppError::Overdrawn(left));
    ///         }
    ///         tx.patch(id, |a| a.cents = left)?;
    ///         Ok(left)
    ///     })
    /// };
    /// assert_eq!(spend(30).unwrap(), 70);
    /// assert!(matches!(spend(500), Err(AppError::Overdrawn(-430))));
    /// assert_eq!(db.read()?.get(id)?.unwrap().cents, 70);
    /// # Ok(()) }
    /// ```
    pub fn transaction<R, E: From<Error>>(
        &self,
        f: impl FnOnce(&mut WriteTx) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E> {
        let mut tx = self.begin_write()?;
        let _in_tx = tx.store.span.enter();
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Subscribes to the committed changes of table `T`: every write transaction that begins
    /// after this call and commits sends one [`Event::Changed`](crate::Event::Changed) per row
    /// of `T` it changed (its net effect, with the row as committed), in commit order; rolled
    /// back work never does. The buffer holds 1024 events; see
    /// [`subscribe_with`](Db::subscribe_with).
    ///
    /// ```
    /// use redorm::prelude::*;
    /// use redorm::{ChangeKind, Event};
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(name = "posts")]
    /// struct Post { title: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Post>().in_memory()?;
    /// let feed = db.subscribe::<Post>()?;
    /// let id = db.write(|tx| tx.insert(Post { title: "Hello".into() }))?;
    /// db.write(|tx| tx.patch(id, |p| p.title = "Hello, world".into()))?;
    /// let Some(Event::Changed(first)) = feed.try_recv() else { panic!() };
    /// assert_eq!((first.id, first.kind), (id, ChangeKind::Inserted));
    /// let Some(Event::Changed(second)) = feed.try_recv() else { panic!() };
    /// assert_eq!(second.row.unwrap().title, "Hello, world");
    /// assert!(feed.try_recv().is_none());
    /// # Ok(()) }
    /// ```
    pub fn subscribe<T: Table + Send>(&self) -> Result<Subscription<T>> {
        self.subscribe_with(1024, |_: &RowChange<T>| true)
    }

    /// As [`subscribe`](Db::subscribe), with a buffer of `capacity` events and only the
    /// changes `keep` accepts. Writers never wait for a subscriber: when its buffer is full,
    /// changes are dropped and the next event it receives is [`Event::Lagged`](crate::Event::Lagged),
    /// telling it to read afresh.
    pub fn subscribe_with<T: Table + Send>(
        &self,
        capacity: usize,
        keep: impl Fn(&RowChange<T>) -> bool + Send + 'static,
    ) -> Result<Subscription<T>> {
        let slot = self.inner.slot::<T>()?;
        Ok(self.setup.notify.subscribe::<T>(slot, capacity, keep))
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
