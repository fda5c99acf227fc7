#![allow(dead_code)]
//! Shared fixtures for the integration tests, and the harness that runs each of them once per
//! storage engine.
//!
//! A test that opens a database takes an [`Engine`] and is marked `#[apply(common::engines)]`
//! (an rstest template): it runs as `name::case_1_redb` and `name::case_2_memory`. It opens
//! its database with [`OpenOn::open_on`], or through a [`Store`] when it reopens the same data.

use std::path::PathBuf;

use redorm::prelude::*;
use redorm::{DbBuilder, MemoryDump, MemoryEngine};
use rstest_reuse::template;

/// The storage engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// redb: in memory (redb's own in-memory backend) for a fresh database, a file in a
    /// temporary directory for a [`Store`] that is reopened.
    Redb,
    /// The runtime's ordered-map engine (`MemoryEngine`).
    Memory,
}

/// Runs the test once per engine: `#[apply(common::engines)] fn name(engine: Engine)`.
#[template]
#[rstest::rstest]
#[case::redb(crate::common::Engine::Redb)]
#[case::memory(crate::common::Engine::Memory)]
pub fn engines(#[case] engine: Engine) {}

/// Opening a fresh, empty database on an [`Engine`]: `builder.open_on(engine)` where a test
/// on one engine would say `builder.in_memory().unwrap()`.
pub trait OpenOn {
    /// Opens a fresh, empty database on `engine`; panics if that fails.
    fn open_on(self, engine: Engine) -> Db;
    /// Opens a fresh, empty database on `engine`.
    fn try_open_on(self, engine: Engine) -> redorm::Result<Db>;
}

impl OpenOn for DbBuilder {
    fn open_on(self, engine: Engine) -> Db {
        self.try_open_on(engine).expect("a fresh database opens")
    }

    fn try_open_on(self, engine: Engine) -> redorm::Result<Db> {
        match engine {
            Engine::Redb => self.in_memory(),
            Engine::Memory => self.open_memory_engine(&MemoryEngine::new()),
        }
    }
}

/// Storage that outlives the databases opened on it, so a test can reopen the same data
/// (with the same or other registrations): a redb file in a temporary directory, or one
/// `MemoryEngine` that every [`Store::open`] opens a new `Db` on.
pub struct Store {
    inner: StoreKind,
}

enum StoreKind {
    Redb {
        path: PathBuf,
        // Deleted when the store is dropped.
        _dir: tempfile::TempDir,
    },
    Memory(MemoryEngine),
}

impl Store {
    /// New, empty storage on `engine`.
    pub fn new(engine: Engine) -> Store {
        let inner = match engine {
            Engine::Redb => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                StoreKind::Redb {
                    path: dir.path().join("test.redb"),
                    _dir: dir,
                }
            }
            Engine::Memory => StoreKind::Memory(MemoryEngine::new()),
        };
        Store { inner }
    }

    /// The engine this storage is on.
    pub fn engine(&self) -> Engine {
        match self.inner {
            StoreKind::Redb { .. } => Engine::Redb,
            StoreKind::Memory(_) => Engine::Memory,
        }
    }

    /// Opens (or reopens) the database; panics if that fails.
    pub fn open(&self, builder: DbBuilder) -> Db {
        self.try_open(builder).expect("the database opens")
    }

    /// Opens (or reopens) the database.
    pub fn try_open(&self, builder: DbBuilder) -> redorm::Result<Db> {
        match &self.inner {
            StoreKind::Redb { path, .. } => builder.open(path),
            StoreKind::Memory(engine) => builder.open_memory_engine(engine),
        }
    }

    /// The redb file, on the redb engine (`None` on the memory engine).
    pub fn redb_path(&self) -> Option<&std::path::Path> {
        match &self.inner {
            StoreKind::Redb { path, .. } => Some(path),
            StoreKind::Memory(_) => None,
        }
    }

    /// Everything committed, on the memory engine (`None` on redb): two dumps are equal
    /// exactly when nothing changed in between.
    pub fn dump(&self) -> Option<MemoryDump> {
        self.memory_engine().map(MemoryEngine::dump)
    }

    /// The memory engine, on the memory engine (`None` on redb).
    pub fn memory_engine(&self) -> Option<&MemoryEngine> {
        match &self.inner {
            StoreKind::Redb { .. } => None,
            StoreKind::Memory(engine) => Some(engine),
        }
    }
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", unique(by_name_team = [name, team]))]
pub struct User {
    #[unique]
    pub email: String,
    pub name: String,
    #[default("member")]
    pub role: String,
    #[index]
    pub age: u32,
    pub team: Option<String>,
}

pub fn user(email: &str, name: &str, age: u32) -> User {
    User {
        email: email.to_string(),
        name: name.to_string(),
        role: "member".to_string(),
        age,
        team: None,
    }
}

/// A fresh database on `engine` with the [`User`] table.
pub fn users_db(engine: Engine) -> Db {
    Db::builder().table::<User>().open_on(engine)
}
