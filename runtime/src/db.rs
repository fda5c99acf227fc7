//! Opening a database: registration, schema validation against the stored catalog, index
//! builds.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::schema::{Table, TableSchema};

use crate::hooks::{DeleteCause, HookSet, UpdateCause};
use crate::schema::{DeleteMode, OnSoftDelete, UniqueIndex};
use crate::storage::memory::MemoryEngine;
use crate::storage::redb::RedbEngine;
use crate::storage::{self, Engine, RESERVED_PREFIX, ReadStore, Source, Space, WriteStore};
use crate::tx::{Doc, ReadTx};
use crate::write::{self, TableOps, WriteTx};

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
    pub(crate) inner: Arc<DbInner>,
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

pub(crate) struct DbInner {
    pub(crate) engine: Box<dyn Engine>,
    pub(crate) tables: Vec<TableInfo>,
    by_type: HashMap<TypeId, usize>,
    pub(crate) strict: bool,
    pub(crate) clock: Arc<dyn Clock>,
    /// Per-database key that signs pagination cursors.
    pub(crate) secret: u64,
    /// Most distinct keys one level of a relation load may read.
    pub(crate) fan_out_max_keys: usize,
    /// Most rows one delete may touch through cascades.
    pub(crate) max_cascade_rows: usize,
    /// Most rows one batch of a scheduled deletion removes.
    pub(crate) job_batch_rows: usize,
    pub(crate) hooks: HookSet,
}

/// What the runtime knows about one registered table once the database is open.
pub(crate) struct TableInfo {
    pub(crate) schema: TableSchema,
    /// The current schema version: rows written now carry it.
    pub(crate) version: u32,
    /// For rows written with an older version: stored column position -> struct field index.
    pub(crate) layouts: HashMap<u32, Vec<usize>>,
    /// Keyspace name of each index, in schema order.
    pub(crate) index_tables: Vec<String>,
    /// Per index: whether soft-deleted rows give up their unique values.
    pub(crate) released: Vec<bool>,
    /// Foreign keys pointing at this table: (slot of the child table, position of the key in
    /// its `foreign_keys`).
    pub(crate) referenced_by: Vec<(usize, usize)>,
    /// Whether rows of this table can be soft-deleted (its own mode, or a soft cascade).
    pub(crate) may_hold_deleted: bool,
    pub(crate) ops: TableOps,
}

impl DbInner {
    #[inline]
    pub(crate) fn slot<T: Table>(&self) -> Result<usize> {
        self.by_type
            .get(&TypeId::of::<T>())
            .copied()
            .ok_or(Error::NotRegistered {
                table: T::NAME,
                type_name: std::any::type_name::<T>(),
            })
    }

    #[inline]
    pub(crate) fn info<T: Table>(&self) -> Result<&TableInfo> {
        let slot = self.slot::<T>()?;
        Ok(&self.tables[slot])
    }

    pub(crate) fn info_by_type(&self, type_id: TypeId, name: &'static str) -> Result<&TableInfo> {
        match self.by_type.get(&type_id) {
            Some(&slot) => Ok(&self.tables[slot]),
            None => Err(Error::NotRegistered {
                table: name,
                type_name: name,
            }),
        }
    }
}

/// The index of `info` whose first column is `column` (a `belongs_to` field always has one).
pub(crate) fn child_index(info: &TableInfo, column: usize) -> Result<usize> {
    info.schema
        .indexes
        .iter()
        .position(|i| i.columns.first() == Some(&column))
        .ok_or_else(|| Error::Schema {
            table: info.schema.name.to_string(),
            message: format!(
                "following a foreign key needs an index starting with column `{}`; mark the field #[belongs_to(...)] or #[index]",
                info.schema.columns.get(column).map_or("?", |c| c.name)
            ),
        })
}

/// Progress of building an index from existing rows while opening a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexBuildProgress<'a> {
    /// Table name.
    pub table: &'a str,
    /// Index name.
    pub index: &'a str,
    /// Rows indexed so far.
    pub done: u64,
    /// Rows in the table.
    pub total: u64,
}

type ProgressFn = Box<dyn FnMut(IndexBuildProgress<'_>)>;

type IndexBuilder = fn(&mut WriteStore, &TableInfo, usize, &mut dyn FnMut(u64)) -> Result<()>;

struct Registration {
    type_id: TypeId,
    type_name: &'static str,
    schema: TableSchema,
    build_index: IndexBuilder,
    ops: TableOps,
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
        let store = ReadStore::begin(&*self.inner.engine)?;
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
        let store = WriteStore::begin(&*self.inner.engine)?;
        Ok(WriteTx::new(self.inner.clone(), store))
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
            build_index: write::build_index::<T>,
            ops: TableOps::of::<T>(),
        });
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
        self.hooks.edit::<T>(|h| h.before_insert.push(Arc::new(f)));
        self
    }

    /// Registers a hook run after a row of `T` was inserted.
    pub fn after_insert<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.edit::<T>(|h| h.after_insert.push(Arc::new(f)));
        self
    }

    /// Registers a hook run before a row of `T` is rewritten, with the old row and the new
    /// value (which it may change); soft deletes and undeletes are updates too.
    pub fn before_update<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>, &mut T, &UpdateCause) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.edit::<T>(|h| h.before_update.push(Arc::new(f)));
        self
    }

    /// Registers a hook run after a row of `T` was rewritten, with the old and new rows.
    pub fn after_update<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>, &Doc<T>, &UpdateCause) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.edit::<T>(|h| h.after_update.push(Arc::new(f)));
        self
    }

    /// Registers a hook run before a row of `T` is removed (directly, by a cascade, or by a
    /// scheduled job); an error cancels the delete.
    pub fn before_delete<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>, &DeleteCause) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.edit::<T>(|h| h.before_delete.push(Arc::new(f)));
        self
    }

    /// Registers a hook run after a row of `T` was removed, in the order rows are removed.
    pub fn after_delete<T: Table>(
        mut self,
        f: impl Fn(&mut WriteTx, &Doc<T>, &DeleteCause) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.edit::<T>(|h| h.after_delete.push(Arc::new(f)));
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
        self.finish(Box::new(engine))
    }

    /// Opens a fresh database that lives in memory only, for tests and caches.
    pub fn in_memory(self) -> Result<Db> {
        self.check_registrations()?;
        self.finish(Box::new(RedbEngine::in_memory()?))
    }

    /// Opens the database on a [`MemoryEngine`] (for tests: fault injection, dumps of the
    /// committed state). Opening another database on the same engine reopens it, as opening a
    /// file again would.
    pub fn open_memory_engine(self, engine: &MemoryEngine) -> Result<Db> {
        self.check_registrations()?;
        self.finish(Box::new(engine.clone()))
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

    fn finish(mut self, engine: Box<dyn Engine>) -> Result<Db> {
        let mut store = WriteStore::begin(&*engine)?;
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
            inner: Arc::new(DbInner {
                engine,
                tables,
                by_type,
                strict: self.strict,
                clock: self.clock,
                secret,
                fan_out_max_keys: self.fan_out_max_keys,
                max_cascade_rows: self.max_cascade_rows,
                job_batch_rows: self.job_batch_rows,
                hooks: self.hooks,
            }),
        })
    }
}

/// Fills in what tables know about each other: who references whom, which tables can hold
/// soft-deleted rows, which unique indexes release soft-deleted values.
fn link_tables(regs: &[Registration], tables: &mut [TableInfo], released: &[(TypeId, usize)]) {
    let slot_of = |t: TypeId| regs.iter().position(|r| r.type_id == t);
    for (child, reg) in regs.iter().enumerate() {
        for (pos, fk) in reg.schema.foreign_keys.iter().enumerate() {
            if let Some(parent) = slot_of(fk.target_type) {
                tables[parent].referenced_by.push((child, pos));
            }
        }
    }
    // A soft cascade can reach any table below a soft or scheduled one.
    let mut changed = true;
    while changed {
        changed = false;
        for parent in 0..tables.len() {
            if !tables[parent].may_hold_deleted {
                continue;
            }
            for (child, pos) in tables[parent].referenced_by.clone() {
                let soft =
                    regs[child].schema.foreign_keys[pos].on_soft_delete == OnSoftDelete::Cascade;
                if soft && !tables[child].may_hold_deleted {
                    tables[child].may_hold_deleted = true;
                    changed = true;
                }
            }
        }
    }
    for &(t, index) in released {
        if let Some(slot) = slot_of(t)
            && let Some(flag) = tables[slot].released.get_mut(index)
        {
            *flag = true;
        }
    }
}

/// Every relation's target (and join table) is registered, and no cycle of required foreign
/// keys makes a first insert impossible.
fn validate_relations(tables: &[Registration]) -> Result<()> {
    let registered = |t: TypeId| tables.iter().any(|r| r.type_id == t);
    for reg in tables {
        let schema = &reg.schema;
        for fk in &schema.foreign_keys {
            if !registered(fk.target_type) {
                return Err(Error::Schema {
                    table: schema.name.to_string(),
                    message: format!(
                        "foreign key `{}` ({}) points at table `{}`, which is not registered; \
                         register it with `.table::<...>()`",
                        schema.columns.get(fk.column).map_or("?", |c| c.name),
                        fk.relation,
                        fk.target
                    ),
                });
            }
        }
        for rel in &schema.relations {
            if !registered(rel.target_type) {
                return Err(Error::Schema {
                    table: schema.name.to_string(),
                    message: format!(
                        "relation `{}` points at table `{}`, which is not registered; register it with `.table::<...>()`",
                        rel.name, rel.target
                    ),
                });
            }
            if let Some((through, t)) = rel.through
                && !registered(t)
            {
                return Err(Error::Schema {
                    table: schema.name.to_string(),
                    message: format!(
                        "relation `{}` goes through join table `{through}`, which is not registered; \
                         register it with `.table::<...>()`",
                        rel.name
                    ),
                });
            }
        }
    }
    // Required foreign keys: child -> parent edges. A cycle means no row could be inserted first.
    let slot_of = |t: TypeId| tables.iter().position(|r| r.type_id == t);
    let edges: Vec<Vec<usize>> = tables
        .iter()
        .map(|r| {
            r.schema
                .foreign_keys
                .iter()
                .filter(|fk| !fk.nullable)
                .filter_map(|fk| slot_of(fk.target_type))
                .collect()
        })
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; tables.len()];
    let mut stack: Vec<usize> = Vec::new();
    fn visit(
        n: usize,
        edges: &[Vec<usize>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[n] = 1;
        stack.push(n);
        for &m in &edges[n] {
            if state[m] == 1 {
                let start = stack.iter().position(|&x| x == m).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(m);
                return Some(cycle);
            }
            if state[m] == 0
                && let Some(c) = visit(m, edges, state, stack)
            {
                return Some(c);
            }
        }
        stack.pop();
        state[n] = 2;
        None
    }
    for n in 0..tables.len() {
        if state[n] == 0
            && let Some(cycle) = visit(n, &edges, &mut state, &mut stack)
        {
            {
                let names: Vec<&str> = cycle.iter().map(|&i| tables[i].schema.name).collect();
                return Err(Error::Schema {
                    table: names[0].to_string(),
                    message: format!(
                        "required foreign keys form a cycle ({}): no row could ever be inserted first. \
                         Make one of these foreign keys an Option<Id<...>>",
                        names.join(" -> ")
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The database's cursor-signing key: made at random when the file is created, kept in the
/// catalog.
fn load_secret(store: &mut WriteStore) -> Result<u64> {
    const KEY: &str = "__redorm_secret";
    let stored = store
        .get_meta(Space::Catalog, KEY.as_bytes())?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok());
    if let Some(arr) = stored {
        return Ok(u64::from_le_bytes(arr));
    }
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let secret = h.finish();
    store.put_meta(Space::Catalog, KEY.as_bytes(), &secret.to_le_bytes())?;
    Ok(secret)
}

// ---- the stored catalog ---------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredTable {
    versions: Vec<StoredVersion>,
    indexes: Vec<StoredIndex>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredVersion {
    version: u32,
    columns: Vec<StoredColumn>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredColumn {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredIndex {
    name: String,
    columns: Vec<String>,
    unique: bool,
    nulls_not_distinct: bool,
}

fn current_columns(schema: &TableSchema) -> Vec<StoredColumn> {
    schema
        .columns
        .iter()
        .map(|c| StoredColumn {
            name: c.name.to_string(),
            type_name: c.type_name.clone(),
        })
        .collect()
}

fn current_indexes(schema: &TableSchema) -> Vec<StoredIndex> {
    schema
        .indexes
        .iter()
        .map(|i| StoredIndex {
            name: i.name.to_string(),
            columns: i
                .columns
                .iter()
                .map(|&c| {
                    schema
                        .columns
                        .get(c)
                        .map_or_else(|| format!("#{c}"), |col| col.name.to_string())
                })
                .collect(),
            unique: i.unique,
            nulls_not_distinct: i.nulls_not_distinct,
        })
        .collect()
}

/// Compares the registered struct with what the file holds, evolves the catalog, builds new
/// indexes and drops removed ones.
fn reconcile(
    store: &mut WriteStore,
    reg: &Registration,
    progress: &mut Option<ProgressFn>,
) -> Result<TableInfo> {
    let schema = &reg.schema;
    let table = schema.name;
    for index in &schema.indexes {
        if index.columns.iter().any(|&c| c >= schema.columns.len()) {
            return Err(Error::Schema {
                table: table.to_string(),
                message: format!(
                    "index `{}` names a column the table does not have",
                    index.name
                ),
            });
        }
    }
    let raw = store.get_meta(Space::Catalog, table.as_bytes())?;
    let stored: Option<StoredTable> = match raw {
        None => None,
        Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
            storage::corrupt(
                "__redorm_catalog",
                None,
                format!("the stored schema of table `{table}` does not parse: {e}"),
            )
        })?),
    };
    let columns = current_columns(schema);
    let indexes = current_indexes(schema);
    let index_tables: Vec<String> = schema
        .indexes
        .iter()
        .map(|i| storage::index_table_name(table, i.name))
        .collect();

    let (versions, old_indexes) = match stored {
        None => {
            // A new table: create its keyspaces so readers find them.
            store.create_rows(table)?;
            for name in &index_tables {
                store.create_index(name)?;
            }
            (
                vec![StoredVersion {
                    version: 1,
                    columns: columns.clone(),
                }],
                None,
            )
        }
        Some(stored) => {
            let mut versions = stored.versions;
            let Some(latest) = versions.last() else {
                return Err(storage::corrupt(
                    "__redorm_catalog",
                    None,
                    format!("the stored schema of table `{table}` has no versions"),
                ));
            };
            check_columns(table, schema, &latest.columns)?;
            if latest.columns != columns {
                let version = latest.version + 1;
                versions.push(StoredVersion {
                    version,
                    columns: columns.clone(),
                });
            }
            (versions, Some(stored.indexes))
        }
    };

    let Some(current) = versions.last() else {
        return Err(storage::corrupt(
            "__redorm_catalog",
            None,
            "no schema version",
        ));
    };
    let version = current.version;
    let mut layouts = HashMap::new();
    for v in &versions {
        if v.version == version {
            continue;
        }
        let mut layout = Vec::with_capacity(v.columns.len());
        for col in &v.columns {
            match schema.columns.iter().position(|c| c.name == col.name) {
                Some(i) => layout.push(i),
                None => {
                    return Err(Error::Schema {
                        table: table.to_string(),
                        message: format!(
                            "rows written with schema version {} hold column `{}`, which the struct no longer has; put the field back",
                            v.version, col.name
                        ),
                    });
                }
            }
        }
        layouts.insert(v.version, layout);
    }
    let info = TableInfo {
        schema: schema.clone(),
        version,
        layouts,
        released: vec![false; index_tables.len()],
        index_tables,
        referenced_by: Vec::new(),
        may_hold_deleted: schema.delete != DeleteMode::Hard,
        ops: reg.ops,
    };

    if let Some(old_indexes) = old_indexes {
        // Drop indexes the struct no longer declares (or declares differently).
        for old in &old_indexes {
            if !indexes.contains(old) {
                store.drop_index(&storage::index_table_name(table, &old.name))?;
            }
        }
        // Build the ones that are new (or changed) from the rows already stored.
        for (pos, index) in indexes.iter().enumerate() {
            if old_indexes.contains(index) {
                continue;
            }
            let total = store.row_count(table)?;
            let name = schema.indexes[pos].name;
            let mut report = |done: u64| {
                if let Some(cb) = progress.as_mut() {
                    cb(IndexBuildProgress {
                        table,
                        index: name,
                        done,
                        total,
                    });
                }
            };
            (reg.build_index)(store, &info, pos, &mut report)?;
        }
    }

    let record = StoredTable { versions, indexes };
    let bytes = serde_json::to_vec(&record).map_err(|e| Error::Schema {
        table: table.to_string(),
        message: format!("cannot serialize the schema: {e}"),
    })?;
    store.put_meta(Space::Catalog, table.as_bytes(), &bytes)?;
    Ok(info)
}

fn check_columns(table: &str, schema: &TableSchema, stored: &[StoredColumn]) -> Result<()> {
    for old in stored {
        match schema.columns.iter().find(|c| c.name == old.name) {
            None => {
                return Err(Error::Schema {
                    table: table.to_string(),
                    message: format!(
                        "column `{}` (type `{}`) is stored in the file but the struct has no such field; \
                         dropping it would lose its data. Put the field back",
                        old.name, old.type_name
                    ),
                });
            }
            Some(col) if !type_compatible(&old.type_name, &col.type_name) => {
                return Err(Error::ColumnTypeChanged {
                    table: table.to_string(),
                    column: old.name.clone(),
                    stored: old.type_name.clone(),
                    current: col.type_name.clone(),
                });
            }
            Some(_) => {}
        }
    }
    for col in &schema.columns {
        if !stored.iter().any(|s| s.name == col.name) && !col.has_default {
            return Err(Error::Schema {
                table: table.to_string(),
                message: format!(
                    "column `{}` is new and existing rows have no value for it; \
                     add #[default(...)] to the field or make it an Option",
                    col.name
                ),
            });
        }
    }
    Ok(())
}

/// Whether values stored as type `stored` read correctly as type `current`: the same type, or
/// the same type where unit enums gained variants at the end (`enum(A,B)` -> `enum(A,B,C)`).
pub(crate) fn type_compatible(stored: &str, current: &str) -> bool {
    if stored == current {
        return true;
    }
    let (mut s, mut c) = (stored, current);
    loop {
        match (s.find("enum("), c.find("enum(")) {
            (None, None) => return s == c,
            (Some(i), Some(j)) if s[..i] == c[..j] => {
                let (s_rest, c_rest) = (&s[i + 5..], &c[j + 5..]);
                let (Some(se), Some(ce)) = (s_rest.find(')'), c_rest.find(')')) else {
                    return false;
                };
                let old: Vec<&str> = s_rest[..se].split(',').collect();
                let new: Vec<&str> = c_rest[..ce].split(',').collect();
                if new.len() < old.len() || new[..old.len()] != old[..] {
                    return false;
                }
                s = &s_rest[se + 1..];
                c = &c_rest[ce + 1..];
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::type_compatible;

    #[test]
    fn enum_types_may_gain_variants_at_the_end() {
        assert!(type_compatible("u32", "u32"));
        assert!(!type_compatible("u32", "u64"));
        assert!(type_compatible("enum(A,B)", "enum(A,B,C)"));
        assert!(type_compatible("Option<enum(A)>", "Option<enum(A,B)>"));
        assert!(!type_compatible("enum(A,B)", "enum(B,A)"));
        assert!(!type_compatible("enum(A,B)", "enum(A)"));
        assert!(!type_compatible("Option<enum(A)>", "Vec<enum(A,B)>"));
    }
}
