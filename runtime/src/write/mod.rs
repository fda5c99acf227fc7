//! Write transactions: inserts, updates and deletes that keep every index exact, check unique
//! and foreign keys, apply `on_delete` actions, soft-delete, and run hooks.

pub(crate) mod bulk;
mod cause;
mod delete;
pub(crate) mod group;
mod guard;
pub mod hooks;
mod insert;
mod links;
pub(crate) mod notify;
mod registry;
pub(crate) mod schedule;
mod tx;
mod update;
pub(crate) mod upsert;

pub(crate) use delete::table_ops;
pub(crate) use registry::{HookSet, TableOps};
pub(crate) use schedule::job_number;
pub use tx::WriteTx;
pub(crate) use tx::{TOKEN_COUNTER, WriteSetup};
