#![doc = include_str!("../README.md")]

mod builder;
mod catalog;
mod clock;
pub mod codec;
mod db;
mod error;
pub mod inspect;
mod integrity;
mod jobs;
mod model;
mod operations;
mod query;
#[cfg(feature = "serde")]
mod serde_impls;
mod storage;
mod trace;
mod tx;
mod write;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use builder::DbBuilder;
pub use catalog::IndexBuildProgress;
pub use clock::{Clock, ManualClock, SystemClock};
pub use db::Db;
pub use error::{Error, Result, StorageError};
pub use integrity::{IntegrityProblem, IntegrityReport};
pub use jobs::{FailedJob, JobKey, JobReport, PendingJob, Worker};
pub use model::{
    Arg, Col, Column, ColumnDef, DeleteMode, Doc, FieldError, ForeignKey, ForeignKeyDef, Id, Index,
    IndexDef, Json, KeyArg, Nullable, OnDelete, OnSoftDelete, RelationDef, SystemColumns, Table,
    TableSchema, UniqueIndex,
};
pub use operations::BackupReport;
pub use query::compare::StrColumn;
pub use query::filter::Filter;
pub use query::relation::{Cardinality, Load, MAX_DEPTH, Relation, ToMany, ToOne};
pub use query::{Counted, Cursor, GroupBy, Numeric, Order, Page, Query, QueryIter, Rules};
pub use redorm_macros::{Column, Table};
pub use storage::memory::{MemoryDump, MemoryEngine, StepCounts, WriteStep};
pub use storage::{Durability, TxStats};
pub use tx::ReadTx;
pub use write::WriteTx;
pub use write::bulk::{DeleteMany, Update};
pub use write::hooks::{self, DeleteCause, UpdateCause};
pub use write::notify::{Change, ChangeKind, Event, RowChange, Subscription};
pub use write::upsert::Upserted;

/// The names most programs need: `use redorm::prelude::*;`.
pub mod prelude {
    pub use crate::{Column, Db, Doc, Id, Json, SystemColumns, Table};
}
