//! redorm: a typed ORM for the embedded database [redb](https://docs.rs/redb).
#![doc = include_str!("../../README.md")]

pub mod codec;
mod column;
mod error;
mod id;
mod schema;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use column::{Arg, Column, Json, KeyArg};
pub use error::{Error, Result};
pub use id::Id;
pub use redorm_macros::{Column, Table};
pub use schema::{Col, ColumnDef, FieldError, Index, IndexDef, Table, TableSchema, UniqueIndex};

/// The names most programs need: `use redorm::prelude::*;`.
pub mod prelude {
    pub use crate::{Column, Id, Json, Table};
}
