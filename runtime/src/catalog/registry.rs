//! What the runtime knows about each registered table once the database is open, and the
//! registrations it was built from.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;

use crate::clock::Clock;
use crate::codec::seal::SealKey;
use crate::error::{Error, Result};
use crate::model::{Table, TableSchema};
use crate::storage::{AnyEngine, WriteStore};

/// The open database as the layers above see it: its engine, its registered tables and
/// its settings.
pub(crate) struct Catalog {
    pub(crate) engine: AnyEngine,
    pub(crate) tables: Vec<TableInfo>,
    pub(crate) by_type: HashMap<TypeId, usize>,
    pub(crate) strict: bool,
    pub(crate) clock: Arc<dyn Clock>,
    /// Per-database key that seals pagination cursors.
    pub(crate) secret: SealKey,
    /// Most distinct keys one level of a relation load may read.
    pub(crate) fan_out_max_keys: usize,
    /// Most rows one delete may touch through cascades.
    pub(crate) max_cascade_rows: usize,
    /// Most rows one batch of a scheduled deletion removes.
    pub(crate) job_batch_rows: usize,
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
    /// Decodes a stored row of this table into what the integrity check compares.
    pub(crate) row_facts: RowFactsFn,
}

pub(crate) type RowFactsFn = fn(&TableInfo, u64, &[u8]) -> Result<super::rows::RowFacts>;

impl Catalog {
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

pub(crate) type ProgressFn = Box<dyn FnMut(IndexBuildProgress<'_>)>;

pub(crate) type IndexBuilder =
    fn(&mut WriteStore, &TableInfo, usize, &mut dyn FnMut(u64)) -> Result<()>;

pub(crate) struct Registration {
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
    pub(crate) schema: TableSchema,
    pub(crate) build_index: IndexBuilder,
    pub(crate) row_facts: RowFactsFn,
}
