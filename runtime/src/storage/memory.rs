//! An in-memory storage engine on ordered maps, with fault injection: the second engine
//! behind the storage seam, for tests (the crate's own and its users').

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::engine::{Durability, Engine, ReadTxn, Space, WriteTxn, is_empty_range};
use crate::error::{Error, Result, StorageError};

/// An in-memory storage engine with fault injection, for tests.
///
/// Open a database on it with [`DbBuilder::open_memory_engine`](crate::DbBuilder::open_memory_engine).
/// The engine is a handle: clones share the same data, so a test can keep one to inject
/// faults, count write steps and compare [dumps](MemoryEngine::dump) of the committed state,
/// and can "reopen" the database by opening another [`Db`](crate::Db) on it.
///
/// Reads are snapshots (each sees the state committed when it began); there is one writer at
/// a time. Unlike redb it does not know how many entries a keyspace holds, so the runtime
/// counts by scanning, as it would on any engine without that capability.
///
/// ```
/// use redorm::prelude::*;
/// use redorm::{MemoryEngine, WriteStep};
///
/// #[derive(Table, Debug)]
/// struct Note { #[unique] text: String }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let engine = MemoryEngine::new();
/// let db = Db::builder().table::<Note>().open_memory_engine(&engine)?;
/// db.write(|tx| tx.insert(Note { text: "a".into() }))?;
///
/// let before = engine.dump();
/// engine.fail_nth(WriteStep::Put, 2); // the second put from now fails
/// let err = db.write(|tx| tx.insert(Note { text: "b".into() })).unwrap_err();
/// assert!(matches!(err, redorm::Error::Storage(_)));
/// assert_eq!(engine.dump(), before); // nothing of the failed transaction is left
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct MemoryEngine {
    shared: Arc<Shared>,
}

impl fmt::Debug for MemoryEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryEngine")
            .field("steps", &self.steps())
            .finish_non_exhaustive()
    }
}

/// A kind of write step of [`MemoryEngine`], for [`MemoryEngine::fail_nth`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStep {
    /// Storing a key (a row, an index entry, a counter, a job, the catalog).
    Put,
    /// Removing a key or a whole keyspace.
    Remove,
    /// Committing a write transaction.
    Commit,
    /// Any of the above.
    Any,
}

/// How many write steps a [`MemoryEngine`] has made since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepCounts {
    /// Keys stored.
    pub puts: u64,
    /// Keys or keyspaces removed.
    pub removes: u64,
    /// Transactions committed (or attempted).
    pub commits: u64,
}

impl StepCounts {
    /// All steps together.
    pub fn total(&self) -> u64 {
        self.puts + self.removes + self.commits
    }
}

/// The committed contents of a [`MemoryEngine`]: keyspace name -> (key -> value). Two dumps
/// are equal exactly when the engine's committed state is the same.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct MemoryDump {
    spaces: BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryDump {
    /// Names of the keyspaces (`rows:users`, `index:users#by_email`, `catalog`, `seq`, `jobs`).
    pub fn keyspaces(&self) -> impl Iterator<Item = &str> {
        self.spaces.keys().map(String::as_str)
    }

    /// The entries of one keyspace, in key order (`None`: no such keyspace).
    pub fn entries(&self, keyspace: &str) -> Option<&BTreeMap<Vec<u8>, Vec<u8>>> {
        self.spaces.get(keyspace)
    }
}

impl fmt::Debug for MemoryDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, entries) in &self.spaces {
            m.entry(name, &entries.len());
        }
        m.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SpaceKey {
    Rows(String),
    Index(String),
    Catalog,
    Seq,
    Jobs,
}

impl SpaceKey {
    fn of(space: Space<'_>) -> Self {
        match space {
            Space::Rows(n) => SpaceKey::Rows(n.to_string()),
            Space::Index(n) => SpaceKey::Index(n.to_string()),
            Space::Catalog => SpaceKey::Catalog,
            Space::Seq => SpaceKey::Seq,
            Space::Jobs => SpaceKey::Jobs,
        }
    }

    fn name(&self) -> String {
        match self {
            SpaceKey::Rows(n) => format!("rows:{n}"),
            SpaceKey::Index(n) => format!("index:{n}"),
            SpaceKey::Catalog => "catalog".to_string(),
            SpaceKey::Seq => "seq".to_string(),
            SpaceKey::Jobs => "jobs".to_string(),
        }
    }
}

type Map = BTreeMap<Vec<u8>, Vec<u8>>;
/// Every keyspace; each is shared between snapshots until a writer changes it.
type Store = BTreeMap<SpaceKey, Arc<Map>>;

#[derive(Default)]
struct Shared {
    committed: Mutex<Arc<Store>>,
    writer_busy: Mutex<bool>,
    writer_free: Condvar,
    faults: Mutex<Faults>,
}

#[derive(Default)]
struct Faults {
    counts: StepCounts,
    /// The armed fault: which steps count, and how many more until one fails.
    armed: Option<(WriteStep, u64)>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind: keep using it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Counts one step of kind `step`; an error when the armed fault fires on it.
    fn step(&self, step: WriteStep) -> Result<()> {
        let mut f = guard(&self.faults);
        let (counts, label) = match step {
            WriteStep::Put => (&mut f.counts.puts, "put"),
            WriteStep::Remove => (&mut f.counts.removes, "remove"),
            _ => (&mut f.counts.commits, "commit"),
        };
        *counts += 1;
        let n = *counts;
        if let Some((kind, left)) = &mut f.armed
            && (*kind == step || *kind == WriteStep::Any)
        {
            *left -= 1;
            if *left == 0 {
                f.armed = None;
                return Err(Error::Storage(StorageError::new(std::io::Error::other(
                    format!("injected fault: {label} #{n} failed"),
                ))));
            }
        }
        Ok(())
    }
}

impl MemoryEngine {
    /// An empty engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the `n`-th write step of kind `step` from now (counting from 1) fail with an I/O
    /// error, as a disk would. One fault is armed at a time; it disarms when it fires.
    pub fn fail_nth(&self, step: WriteStep, n: u64) {
        guard(&self.shared.faults).armed = Some((step, n.max(1)));
    }

    /// Disarms the armed fault, if it has not fired.
    pub fn disarm(&self) {
        guard(&self.shared.faults).armed = None;
    }

    /// The write steps made so far.
    pub fn steps(&self) -> StepCounts {
        guard(&self.shared.faults).counts
    }

    /// A copy of everything committed.
    pub fn dump(&self) -> MemoryDump {
        let store = guard(&self.shared.committed).clone();
        MemoryDump {
            spaces: store
                .iter()
                .map(|(k, m)| (k.name(), (**m).clone()))
                .collect(),
        }
    }
}

impl Engine for MemoryEngine {
    type Read = MemRead;
    type Write = MemWrite;

    fn begin_read(&self) -> Result<MemRead> {
        Ok(MemRead {
            store: guard(&self.shared.committed).clone(),
        })
    }

    fn begin_write(&self) -> Result<MemWrite> {
        let mut busy = guard(&self.shared.writer_busy);
        while *busy {
            busy = self
                .shared
                .writer_free
                .wait(busy)
                .unwrap_or_else(|e| e.into_inner());
        }
        *busy = true;
        drop(busy);
        let store = (*guard(&self.shared.committed).clone()).clone();
        Ok(MemWrite {
            shared: self.shared.clone(),
            store,
        })
    }
}

fn get_in<R>(store: &Store, space: Space<'_>, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    store
        .get(&SpaceKey::of(space))
        .and_then(|m| m.get(key))
        .map(|v| f(v))
}

fn scan_in(
    store: &Store,
    space: Space<'_>,
    lo: Bound<&[u8]>,
    hi: Bound<&[u8]>,
    reverse: bool,
    mut f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
) -> Result<()> {
    let Some(map) = store.get(&SpaceKey::of(space)) else {
        return Ok(());
    };
    if is_empty_range(&lo, &hi) {
        return Ok(());
    }
    let range = map.range::<[u8], _>((lo, hi));
    if reverse {
        for (k, v) in range.rev() {
            if !f(k, v)? {
                break;
            }
        }
    } else {
        for (k, v) in range {
            if !f(k, v)? {
                break;
            }
        }
    }
    Ok(())
}

/// The reads of both transaction kinds, over the store each holds (a snapshot, or the
/// writer's own copy).
macro_rules! mem_reads {
    ($ty:ty) => {
        impl ReadTxn for $ty {
            fn get<R>(
                &self,
                space: Space<'_>,
                key: &[u8],
                f: impl FnOnce(&[u8]) -> R,
            ) -> Result<Option<R>> {
                Ok(get_in(&self.store, space, key, f))
            }

            fn scan(
                &self,
                space: Space<'_>,
                lo: Bound<&[u8]>,
                hi: Bound<&[u8]>,
                reverse: bool,
                f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
            ) -> Result<()> {
                scan_in(&self.store, space, lo, hi, reverse, f)
            }

            fn len(&self, _: Space<'_>) -> Result<Option<u64>> {
                Ok(None)
            }
        }
    };
}

pub(crate) struct MemRead {
    store: Arc<Store>,
}

mem_reads!(MemRead);

/// The writer: a private copy of the store (keyspaces copied on first change).
pub(crate) struct MemWrite {
    shared: Arc<Shared>,
    store: Store,
}

impl Drop for MemWrite {
    fn drop(&mut self) {
        *guard(&self.shared.writer_busy) = false;
        self.shared.writer_free.notify_one();
    }
}

impl MemWrite {
    fn map_mut(&mut self, space: Space<'_>) -> &mut Map {
        Arc::make_mut(self.store.entry(SpaceKey::of(space)).or_default())
    }
}

mem_reads!(MemWrite);

impl WriteTxn for MemWrite {
    fn put(&mut self, space: Space<'_>, key: &[u8], value: &[u8]) -> Result<bool> {
        self.shared.step(WriteStep::Put)?;
        Ok(self
            .map_mut(space)
            .insert(key.to_vec(), value.to_vec())
            .is_some())
    }

    fn remove(&mut self, space: Space<'_>, key: &[u8]) -> Result<bool> {
        self.shared.step(WriteStep::Remove)?;
        Ok(self.map_mut(space).remove(key).is_some())
    }

    fn create(&mut self, space: Space<'_>) -> Result<()> {
        self.store.entry(SpaceKey::of(space)).or_default();
        Ok(())
    }

    fn drop_space(&mut self, space: Space<'_>) -> Result<()> {
        self.shared.step(WriteStep::Remove)?;
        self.store.remove(&SpaceKey::of(space));
        Ok(())
    }

    fn set_durability(&mut self, _: Durability) -> Result<()> {
        Ok(())
    }

    fn commit(mut self) -> Result<()> {
        self.shared.step(WriteStep::Commit)?;
        let store = std::mem::take(&mut self.store);
        *guard(&self.shared.committed) = Arc::new(store);
        Ok(())
    }

    fn rollback(self) -> Result<()> {
        Ok(())
    }
}
