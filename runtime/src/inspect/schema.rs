//! The stored schema as the inspector describes it, and the dynamic catalog built from it so
//! the library's integrity check, jobs, backup and compaction run on a file without the
//! application's structs.

use std::any::TypeId;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, PoisonError};

use super::InspectError;
use super::value::{ColumnType, Value};
use crate::catalog::{CATALOG_FORMAT, IndexKey, RowFacts, StoredTable, TableInfo, read_header};
use crate::codec::row::RowHeader;
use crate::error::{Error, Result};
use crate::model::{
    ColumnDef, DeleteMode, ForeignKeyDef, IndexDef, OnDelete, OnSoftDelete, TableSchema,
};
use crate::storage::{self, ReadTxn, Source, Space};

/// One stored table, as its catalog record describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDesc {
    /// The table's name.
    pub name: String,
    /// The catalog format of its record (1: written by a redorm before 0.1's inspector, which
    /// stored only columns and indexes; 2: with delete mode, foreign keys and relations).
    pub format: u32,
    /// The current schema version (rows written now carry it).
    pub version: u32,
    /// Older schema versions rows may still carry.
    pub older_versions: Vec<u32>,
    /// The current columns, in declaration order.
    pub columns: Vec<ColumnDesc>,
    /// The indexes, in declaration order.
    pub indexes: Vec<IndexDesc>,
    /// The foreign keys (empty in a format 1 record).
    pub foreign_keys: Vec<ForeignKeyDesc>,
    /// The declared relations (empty in a format 1 record).
    pub relations: Vec<RelationDesc>,
    /// What deleting a row does (`None` in a format 1 record).
    pub delete: Option<DeleteMode>,
}

/// One column of a stored table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDesc {
    /// The field name.
    pub name: String,
    /// The stored type name (e.g. `Option<String>`, `enum(A,B)`).
    pub type_name: String,
    /// The parsed type; `None` for a type the inspector cannot decode.
    pub column_type: Option<ColumnType>,
    /// Whether the column is an `Option` (`None`: not recorded, format 1).
    pub nullable: Option<bool>,
    /// Whether rows stored before the column existed read a default (`#[default]` or
    /// `Option`); `None`: not recorded. The default's value is the application's and is not
    /// stored.
    pub has_default: Option<bool>,
}

/// One stored index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDesc {
    /// The index name (`by_email`).
    pub name: String,
    /// The indexed columns.
    pub columns: Vec<String>,
    /// Whether two rows may not share a key.
    pub unique: bool,
    /// For unique indexes: whether `None` counts as a value.
    pub nulls_not_distinct: bool,
}

/// One stored foreign key (a `#[belongs_to]` field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyDesc {
    /// The relation's name (`author`).
    pub relation: String,
    /// The foreign-key column.
    pub column: String,
    /// The table it points into.
    pub target: String,
    /// Whether the column is an `Option<Id<_>>`.
    pub nullable: bool,
    /// What deleting the target does to the row.
    pub on_delete: OnDelete,
    /// What soft-deleting the target does to the row.
    pub on_soft_delete: OnSoftDelete,
}

/// One declared relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationDesc {
    /// Its name (`posts`).
    pub name: String,
    /// The related table.
    pub target: String,
    /// For a many-to-many relation, the join table.
    pub through: Option<String>,
}

impl TableDesc {
    /// Column `name`, with its position.
    pub(crate) fn column(&self, name: &str) -> Result<(usize, &ColumnDesc), InspectError> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
            .ok_or_else(|| InspectError::UnknownColumn {
                table: self.name.clone(),
                column: name.to_string(),
                known: self.columns.iter().map(|c| c.name.clone()).collect(),
            })
    }

    /// The parsed type of column `pos`, or the error naming the type the inspector cannot
    /// decode.
    pub(crate) fn column_type(&self, pos: usize) -> Result<&ColumnType, InspectError> {
        let col = self
            .columns
            .get(pos)
            .ok_or_else(|| InspectError::UnknownColumn {
                table: self.name.clone(),
                column: format!("#{pos}"),
                known: Vec::new(),
            })?;
        col.column_type
            .as_ref()
            .ok_or_else(|| InspectError::UnsupportedType {
                table: self.name.clone(),
                column: col.name.clone(),
                type_name: col.type_name.clone(),
            })
    }

    /// The foreign key stored in column `column`, if it is one.
    pub fn foreign_key_of(&self, column: &str) -> Option<&ForeignKeyDesc> {
        self.foreign_keys.iter().find(|fk| fk.column == column)
    }
}

fn on_delete_of(name: &str) -> OnDelete {
    match name {
        "cascade" => OnDelete::Cascade,
        "set_null" => OnDelete::SetNull,
        "set_default" => OnDelete::SetDefault,
        _ => OnDelete::Restrict,
    }
}

fn on_soft_delete_of(name: &str) -> OnSoftDelete {
    match name {
        "cascade" => OnSoftDelete::Cascade,
        _ => OnSoftDelete::Ignore,
    }
}

/// A stored table: its description and what decoding its rows needs.
pub(crate) struct StoredSchema {
    pub(crate) desc: TableDesc,
    /// For each older version: the stored columns' positions among the current columns.
    pub(crate) layouts: HashMap<u32, Vec<usize>>,
}

/// Reads every table record of the catalog. `Ok(None)`: the file has no redorm catalog.
pub(crate) fn read_catalog(store: &impl Source) -> Result<Option<Vec<StoredSchema>>, InspectError> {
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    let mut has_key = false;
    store.txn().scan(
        Space::Catalog,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |key, value| {
            match std::str::from_utf8(key) {
                Ok(name) if name.starts_with(storage::RESERVED_PREFIX) => has_key = true,
                Ok(name) => records.push((name.to_string(), value.to_vec())),
                Err(_) => {
                    return Err(storage::corrupt(
                        "__redorm_catalog",
                        None,
                        "a catalog key is not UTF-8",
                    ));
                }
            }
            Ok(true)
        },
    )?;
    if records.is_empty() && !has_key {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(records.len());
    for (name, bytes) in records {
        // A newer format is named before it is parsed: its fields may not parse here.
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&bytes)
            && let Some(found) = map.get("format").and_then(serde_json::Value::as_u64)
            && found > u64::from(CATALOG_FORMAT)
        {
            return Err(InspectError::NewerFormat {
                table: name,
                found,
                supported: CATALOG_FORMAT,
            });
        }
        let record = StoredTable::parse(&name, &bytes)?;
        out.push(describe(name, record)?);
    }
    Ok(Some(out))
}

fn describe(name: String, record: StoredTable) -> Result<StoredSchema, InspectError> {
    let damaged = |detail: String| -> InspectError {
        storage::corrupt("__redorm_catalog", None, detail).into()
    };
    let Some(current) = record.versions.last() else {
        return Err(damaged(format!(
            "the stored schema of table `{name}` has no versions"
        )));
    };
    let columns: Vec<ColumnDesc> = current
        .columns
        .iter()
        .map(|c| {
            let info = record.column_info.iter().find(|i| i.name == c.name);
            ColumnDesc {
                name: c.name.clone(),
                type_name: c.type_name.clone(),
                column_type: ColumnType::parse(&c.type_name),
                nullable: info.map(|i| i.nullable),
                has_default: info.map(|i| i.has_default),
            }
        })
        .collect();
    let mut layouts = HashMap::new();
    for v in &record.versions[..record.versions.len() - 1] {
        let mut layout = Vec::with_capacity(v.columns.len());
        for col in &v.columns {
            let pos = columns.iter().position(|c| c.name == col.name).ok_or_else(|| {
                damaged(format!(
                    "version {} of table `{name}` holds column `{}`, which the current version does not have",
                    v.version, col.name
                ))
            })?;
            layout.push(pos);
        }
        layouts.insert(v.version, layout);
    }
    let desc = TableDesc {
        format: record.format,
        version: current.version,
        older_versions: record.versions[..record.versions.len() - 1]
            .iter()
            .map(|v| v.version)
            .collect(),
        columns,
        indexes: record
            .indexes
            .iter()
            .map(|i| IndexDesc {
                name: i.name.clone(),
                columns: i.columns.clone(),
                unique: i.unique,
                nulls_not_distinct: i.nulls_not_distinct,
            })
            .collect(),
        foreign_keys: record
            .foreign_keys
            .iter()
            .map(|fk| ForeignKeyDesc {
                relation: fk.relation.clone(),
                column: fk.column.clone(),
                target: fk.target.clone(),
                nullable: fk.nullable,
                on_delete: on_delete_of(&fk.on_delete),
                on_soft_delete: on_soft_delete_of(&fk.on_soft_delete),
            })
            .collect(),
        relations: record
            .relations
            .iter()
            .map(|r| RelationDesc {
                name: r.name.clone(),
                target: r.target.clone(),
                through: r.through.clone(),
            })
            .collect(),
        delete: record.delete.map(DeleteMode::from),
        name,
    };
    Ok(StoredSchema { desc, layouts })
}

/// A `&'static str` for a name read from the file: the library's schema types hold static
/// names (the derive's). Each distinct name is allocated once per process, so opening files
/// again and again does not grow memory.
fn intern(s: &str) -> &'static str {
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&name) = names.get(s) {
        return name;
    }
    let name: &'static str = Box::leak(s.to_owned().into_boxed_str());
    names.insert(name);
    name
}

/// The library's view of the stored tables: what the integrity check, the jobs and the
/// operations read. Foreign keys link tables by name (there are no Rust types here).
pub(crate) fn table_infos(tables: &[StoredSchema]) -> Vec<TableInfo> {
    let mut infos: Vec<TableInfo> = tables.iter().map(table_info).collect();
    for (child, t) in tables.iter().enumerate() {
        for (pos, fk) in t.desc.foreign_keys.iter().enumerate() {
            if let Some(parent) = tables.iter().position(|p| p.desc.name == fk.target) {
                infos[parent].referenced_by.push((child, pos));
            }
        }
    }
    infos
}

fn table_info(t: &StoredSchema) -> TableInfo {
    let desc = &t.desc;
    let position = |name: &str| desc.columns.iter().position(|c| c.name == name);
    let schema = TableSchema {
        name: intern(&desc.name),
        columns: desc
            .columns
            .iter()
            .map(|c| ColumnDef {
                name: intern(&c.name),
                type_name: c.type_name.clone(),
                nullable: c.nullable.unwrap_or(c.type_name.starts_with("Option<")),
                has_default: c.has_default.unwrap_or(false),
            })
            .collect(),
        indexes: desc
            .indexes
            .iter()
            .map(|i| IndexDef {
                name: intern(&i.name),
                // A column the current version lacks cannot be in a stored index (opening
                // refuses such schemas); `usize::MAX` makes the row-facts decoder report it.
                columns: i
                    .columns
                    .iter()
                    .map(|c| position(c).unwrap_or(usize::MAX))
                    .collect(),
                unique: i.unique,
                nulls_not_distinct: i.nulls_not_distinct,
            })
            .collect(),
        foreign_keys: desc
            .foreign_keys
            .iter()
            .filter_map(|fk| {
                Some(ForeignKeyDef {
                    relation: intern(&fk.relation),
                    column: position(&fk.column)?,
                    target: intern(&fk.target),
                    // Not a Rust type: tables are linked by name in `table_infos`.
                    target_type: TypeId::of::<()>(),
                    nullable: fk.nullable,
                    on_delete: fk.on_delete,
                    on_soft_delete: fk.on_soft_delete,
                })
            })
            .collect(),
        relations: Vec::new(),
        delete: desc.delete.unwrap_or_default(),
    };
    TableInfo {
        index_tables: desc
            .indexes
            .iter()
            .map(|i| storage::index_table_name(&desc.name, &i.name))
            .collect(),
        // Which unique indexes release soft-deleted values is a setting of the application
        // (`release_on_soft_delete`), not stored: the inspector checks them as not released.
        released: vec![false; desc.indexes.len()],
        version: desc.version,
        layouts: t.layouts.clone(),
        referenced_by: Vec::new(),
        may_hold_deleted: desc.delete != Some(DeleteMode::Hard),
        row_facts: dynamic_row_facts,
        schema,
    }
}

/// The current columns' values of stored row `id`, in column order, decoded by the types in
/// `info`'s schema (rows of older versions included: columns they predate read as
/// [`Value::Null`] when nullable, else [`Value::Default`]).
pub(crate) fn decode_columns(
    info: &TableInfo,
    id: u64,
    bytes: &[u8],
) -> Result<(RowHeader, Vec<Value>)> {
    let mut input = bytes;
    let header = read_header(info, id, &mut input)?;
    let table = info.schema.name;
    let columns = &info.schema.columns;
    let identity: Vec<usize>;
    let layout: &[usize] = if header.version == info.version {
        identity = (0..columns.len()).collect();
        &identity
    } else {
        match info.layouts.get(&header.version) {
            Some(layout) => layout,
            None => {
                return Err(storage::corrupt(
                    table,
                    Some(id),
                    format!("row written with unknown schema version {}", header.version),
                ));
            }
        }
    };
    let mut values: Vec<Option<Value>> = vec![None; columns.len()];
    for &pos in layout {
        let Some(col) = columns.get(pos) else {
            return Err(storage::corrupt(
                table,
                Some(id),
                "the stored layout names a missing column",
            ));
        };
        let Some(ty) = ColumnType::parse(&col.type_name) else {
            return Err(Error::Corrupt {
                table: table.to_string(),
                id: Some(id),
                column: Some(col.name),
                detail: format!(
                    "type `{}` is not one the inspector decodes, so this and the following columns cannot be read",
                    col.type_name
                ),
            });
        };
        let value = ty.decode(&mut input).map_err(|e| Error::Corrupt {
            table: table.to_string(),
            id: Some(id),
            column: Some(col.name),
            detail: e.detail,
        })?;
        if let Some(slot) = values.get_mut(pos) {
            *slot = Some(value);
        }
    }
    if !input.is_empty() {
        return Err(storage::corrupt(
            table,
            Some(id),
            format!("{} unexpected bytes after the last column", input.len()),
        ));
    }
    let values = values
        .into_iter()
        .zip(columns)
        .map(|(v, c)| {
            v.unwrap_or(if c.nullable {
                Value::Null
            } else {
                Value::Default
            })
        })
        .collect();
    Ok((header, values))
}

/// The key prefix of `values` in index `pos` of `info`, and whether it takes part in the
/// uniqueness check (as `catalog::index_keys` computes it for a typed row).
pub(crate) fn index_key(info: &TableInfo, pos: usize, values: &[Value]) -> Result<IndexKey> {
    let table = info.schema.name;
    let Some(index) = info.schema.indexes.get(pos) else {
        return Err(storage::corrupt(table, None, "index position out of range"));
    };
    let mut prefix = Vec::new();
    let mut has_null = false;
    for &col in &index.columns {
        let (Some(def), Some(value)) = (info.schema.columns.get(col), values.get(col)) else {
            return Err(storage::corrupt(
                table,
                None,
                format!(
                    "index `{}` names a column the table does not have",
                    index.name
                ),
            ));
        };
        if *value == Value::Default {
            return Err(Error::Corrupt {
                table: table.to_string(),
                id: None,
                column: Some(def.name),
                detail: format!(
                    "the row predates column `{}`, whose default is not stored in the file, so its key in index `{}` is unknown",
                    def.name, index.name
                ),
            });
        }
        let ty = ColumnType::parse(&def.type_name).ok_or_else(|| Error::Corrupt {
            table: table.to_string(),
            id: None,
            column: Some(def.name),
            detail: format!("type `{}` is not one the inspector decodes", def.type_name),
        })?;
        ty.encode_key(value, &mut prefix)
            .map_err(|e| Error::Encode {
                table,
                column: def.name,
                detail: e.detail,
            })?;
        has_null |= *value == Value::Null;
    }
    Ok(IndexKey {
        prefix,
        checked: index.unique && (index.nulls_not_distinct || !has_null),
    })
}

/// [`RowFacts`] of a stored row, decoded by the stored schema (the integrity check's
/// per-table decoder, without a Rust type).
pub(crate) fn dynamic_row_facts(info: &TableInfo, id: u64, bytes: &[u8]) -> Result<RowFacts> {
    let (header, values) = decode_columns(info, id, bytes)?;
    let keys = (0..info.schema.indexes.len())
        .map(|pos| {
            index_key(info, pos, &values).map_err(|e| match e {
                Error::Corrupt {
                    table,
                    column,
                    detail,
                    ..
                } => Error::Corrupt {
                    table,
                    id: Some(id),
                    column,
                    detail,
                },
                e => e,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let fks = info
        .schema
        .foreign_keys
        .iter()
        .map(|fk| match values.get(fk.column) {
            Some(Value::Id(target)) => Some(*target),
            _ => None,
        })
        .collect();
    Ok(RowFacts {
        deleted: header.deleted,
        keys,
        fks,
    })
}

/// Live and soft-deleted rows of `table`, reading only each row's header.
pub(crate) fn count_rows<S: Source>(store: &S, table: &str) -> Result<(u64, u64)> {
    let (mut live, mut deleted) = (0, 0);
    store.scan_rows(
        table,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        &mut |id, bytes| {
            let mut input = bytes;
            let header = RowHeader::read(&mut input)
                .map_err(|e| storage::corrupt(table, Some(id), e.detail))?;
            if header.deleted.is_some() {
                deleted += 1;
            } else {
                live += 1;
            }
            Ok(true)
        },
    )?;
    Ok((live, deleted))
}

/// Entries of an index keyspace, and their total key bytes.
pub(crate) fn index_size<S: Source>(store: &S, index: &str) -> Result<(u64, u64)> {
    let (mut n, mut bytes) = (0u64, 0u64);
    store.txn().scan_keys(
        Space::Index(index),
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |k| {
            n += 1;
            bytes += k.len() as u64;
            Ok(true)
        },
    )?;
    Ok((n, bytes))
}

/// Rows of a table and their total key and value bytes.
pub(crate) fn rows_size<S: Source>(store: &S, table: &str) -> Result<(u64, u64)> {
    let (mut n, mut bytes) = (0u64, 0u64);
    store.scan_rows(
        table,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        &mut |_, v| {
            n += 1;
            bytes += (storage::ID_LEN + v.len()) as u64;
            Ok(true)
        },
    )?;
    Ok((n, bytes))
}
