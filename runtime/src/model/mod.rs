//! The data model: what users' structs become. Column types and their encodings, typed ids,
//! the `Table` trait the derive implements with its column, index and relation descriptors,
//! and `Doc`, a row as read.

mod column;
mod doc;
mod external;
mod id;
mod loaded;
mod schema;

pub use column::{Arg, Column, Json, KeyArg};
pub use doc::Doc;
pub(crate) use doc::Visibility;
pub use id::{ForeignKey, Id, Nullable};
pub(crate) use schema::{CREATED_AT_COLUMN, ID_COLUMN, column_name};
pub use schema::{
    Col, ColumnDef, DeleteMode, FieldError, ForeignKeyDef, Index, IndexDef, OnDelete, OnSoftDelete,
    RelationDef, SystemColumns, Table, TableName, TableSchema, UniqueIndex,
};
