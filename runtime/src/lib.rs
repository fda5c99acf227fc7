//! redorm: a typed ORM for the embedded database [redb](https://docs.rs/redb).
#![doc = include_str!("../../README.md")]

mod clock;
pub mod codec;
mod column;
mod db;
mod error;
mod filter;
pub mod hooks;
mod id;
mod jobs;
mod query;
mod relation;
mod schema;
mod storage;
mod tx;
mod write;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use clock::{Clock, ManualClock, SystemClock};
pub use column::{Arg, Column, Json, KeyArg};
pub use db::{Db, DbBuilder, IndexBuildProgress};
pub use error::{Error, Result, StorageError};
pub use filter::{Filter, StrColumn};
pub use hooks::{DeleteCause, UpdateCause};
pub use id::{ForeignKey, Id, Nullable};
pub use jobs::{JobReport, Worker};
pub use query::{Cursor, Order, Page, Query, QueryIter};
pub use redorm_macros::{Column, Table};
pub use relation::{Cardinality, Load, MAX_DEPTH, Relation, ToMany, ToOne};
pub use schema::{
    Col, ColumnDef, DeleteMode, FieldError, ForeignKeyDef, Index, IndexDef, OnDelete, OnSoftDelete,
    RelationDef, Table, TableSchema, UniqueIndex,
};
pub use storage::memory::{MemoryDump, MemoryEngine, StepCounts, WriteStep};
pub use tx::{Doc, Durability, ReadTx, TxStats, WriteTx};
pub use write::{DeleteMany, Update};

/// The names most programs need: `use redorm::prelude::*;`.
pub mod prelude {
    pub use crate::{Column, Db, Doc, Id, Json, Table};
}
