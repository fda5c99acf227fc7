//! The schema stored in the file, and reconciling it with the registered structs when a
//! database opens: new versions, new and dropped indexes, refused changes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::registry::{IndexBuildProgress, ProgressFn, Registration, TableInfo};
use crate::codec::seal::{KEY_LEN, SealKey};
use crate::error::{Error, Result};
use crate::model::{DeleteMode, OnDelete, OnSoftDelete, TableSchema};
use crate::storage::{self, Source, Space, WriteStore};

/// The database's cursor key ([`SealKey`]): drawn from the operating system's random number
/// generator when the file is created, kept in the catalog. A file opened read-only that has
/// none yet (written by a redorm before sealed cursors) gets one for this opening only: its
/// cursors then last as long as the `Db`.
pub(crate) fn load_secret(store: &mut WriteStore) -> Result<SealKey> {
    const KEY: &str = "__redorm_cursor_key";
    if let Some(bytes) = store.get_meta(Space::Catalog, KEY.as_bytes())? {
        // Replacing a damaged key would silently invalidate every cursor handed out.
        return SealKey::from_bytes(&bytes).ok_or_else(|| {
            storage::corrupt(
                "__redorm_catalog",
                None,
                format!(
                    "the cursor key `{KEY}` is {} bytes, not {KEY_LEN}: the catalog is damaged; \
                     restore the file from a backup",
                    bytes.len()
                ),
            )
        });
    }
    let key = SealKey::generate()?;
    if !store.is_read_only() {
        store.put_meta(Space::Catalog, KEY.as_bytes(), key.as_bytes())?;
    }
    Ok(key)
}

// ---- the stored catalog ---------------------------------------------------------------

/// Every keyspace the file holds, from its catalog: the internal ones, then each stored
/// table's rows and indexes (registered with this `Db` or not). What a backup copies.
pub(crate) fn stored_keyspaces(store: &impl Source) -> Result<Vec<(String, Vec<String>)>> {
    use crate::storage::ReadTxn;
    use std::ops::Bound::Unbounded;
    let mut tables = Vec::new();
    let mut bad = None;
    store
        .txn()
        .scan(Space::Catalog, Unbounded, Unbounded, false, |key, value| {
            let Ok(name) = std::str::from_utf8(key) else {
                return Ok(true);
            };
            if name.starts_with(storage::RESERVED_PREFIX) {
                return Ok(true);
            }
            match StoredTable::parse(name, value) {
                Ok(t) => {
                    let indexes = t
                        .indexes
                        .iter()
                        .map(|i| storage::index_table_name(name, &i.name))
                        .collect();
                    tables.push((name.to_string(), indexes));
                    Ok(true)
                }
                Err(e) => {
                    bad = Some(e);
                    Ok(false)
                }
            }
        })?;
    match bad {
        Some(e) => Err(e),
        None => Ok(tables),
    }
}

/// The format of the stored schema records this redorm writes. Format 1 (records without a
/// `format` field) held the column versions and the indexes; format 2 adds what a reader
/// without the application's structs needs: the delete mode, the foreign keys, the relations
/// and each current column's nullability and default. A record of a format above this one
/// was written by a newer redorm and is refused.
pub(crate) const CATALOG_FORMAT: u32 = 2;

fn format_1() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredTable {
    #[serde(default = "format_1")]
    pub(crate) format: u32,
    pub(crate) versions: Vec<StoredVersion>,
    pub(crate) indexes: Vec<StoredIndex>,
    /// The delete mode (`None` in format 1 records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delete: Option<StoredDelete>,
    /// The current columns' nullability and defaults, in column order (empty in format 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) column_info: Vec<StoredColumnInfo>,
    /// The foreign keys (empty in format 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) foreign_keys: Vec<StoredForeignKey>,
    /// The declared relations (empty in format 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) relations: Vec<StoredRelation>,
}

impl StoredTable {
    /// Parses the stored record of table `table`: corrupt when it does not parse, refused
    /// when it was written by a newer redorm.
    pub(crate) fn parse(table: &str, bytes: &[u8]) -> Result<StoredTable> {
        let record: StoredTable = serde_json::from_slice(bytes).map_err(|e| {
            storage::corrupt(
                "__redorm_catalog",
                None,
                format!("the stored schema of table `{table}` does not parse: {e}"),
            )
        })?;
        if record.format > CATALOG_FORMAT {
            return Err(Error::Schema {
                table: table.to_string(),
                message: format!(
                    "the stored schema is in catalog format {}, written by a newer redorm; this \
                     one reads formats up to {CATALOG_FORMAT}: upgrade redorm",
                    record.format
                ),
            });
        }
        Ok(record)
    }
}

/// The delete mode as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StoredDelete {
    Hard,
    Soft,
    Scheduled { delay_ms: u64 },
}

impl From<DeleteMode> for StoredDelete {
    fn from(mode: DeleteMode) -> Self {
        match mode {
            DeleteMode::Hard => StoredDelete::Hard,
            DeleteMode::Soft => StoredDelete::Soft,
            DeleteMode::Scheduled { delay_ms } => StoredDelete::Scheduled { delay_ms },
        }
    }
}

impl From<StoredDelete> for DeleteMode {
    fn from(mode: StoredDelete) -> Self {
        match mode {
            StoredDelete::Hard => DeleteMode::Hard,
            StoredDelete::Soft => DeleteMode::Soft,
            StoredDelete::Scheduled { delay_ms } => DeleteMode::Scheduled { delay_ms },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredColumnInfo {
    pub(crate) name: String,
    pub(crate) nullable: bool,
    pub(crate) has_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredForeignKey {
    pub(crate) relation: String,
    pub(crate) column: String,
    pub(crate) target: String,
    pub(crate) nullable: bool,
    pub(crate) on_delete: String,
    pub(crate) on_soft_delete: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredRelation {
    pub(crate) name: String,
    pub(crate) target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) through: Option<String>,
}

pub(crate) fn on_delete_name(action: OnDelete) -> &'static str {
    match action {
        OnDelete::Restrict => "restrict",
        OnDelete::Cascade => "cascade",
        OnDelete::SetNull => "set_null",
        OnDelete::SetDefault => "set_default",
    }
}

pub(crate) fn on_soft_delete_name(action: OnSoftDelete) -> &'static str {
    match action {
        OnSoftDelete::Ignore => "ignore",
        OnSoftDelete::Cascade => "cascade",
    }
}

/// The descriptive part of a format 2 record for `schema`.
fn describe(
    schema: &TableSchema,
    versions: Vec<StoredVersion>,
    indexes: Vec<StoredIndex>,
) -> StoredTable {
    let column_name = |c: usize| {
        schema
            .columns
            .get(c)
            .map_or_else(|| format!("#{c}"), |col| col.name.to_string())
    };
    StoredTable {
        format: CATALOG_FORMAT,
        versions,
        indexes,
        delete: Some(schema.delete.into()),
        column_info: schema
            .columns
            .iter()
            .map(|c| StoredColumnInfo {
                name: c.name.to_string(),
                nullable: c.nullable,
                has_default: c.has_default,
            })
            .collect(),
        foreign_keys: schema
            .foreign_keys
            .iter()
            .map(|fk| StoredForeignKey {
                relation: fk.relation.to_string(),
                column: column_name(fk.column),
                target: fk.target.to_string(),
                nullable: fk.nullable,
                on_delete: on_delete_name(fk.on_delete).to_string(),
                on_soft_delete: on_soft_delete_name(fk.on_soft_delete).to_string(),
            })
            .collect(),
        relations: schema
            .relations
            .iter()
            .map(|r| StoredRelation {
                name: r.name.to_string(),
                target: r.target.to_string(),
                through: r.through.map(|(t, _)| t.to_string()),
            })
            .collect(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredVersion {
    pub(crate) version: u32,
    pub(crate) columns: Vec<StoredColumn>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredColumn {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) type_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredIndex {
    pub(crate) name: String,
    pub(crate) columns: Vec<String>,
    pub(crate) unique: bool,
    pub(crate) nulls_not_distinct: bool,
}

pub(crate) fn current_columns(schema: &TableSchema) -> Vec<StoredColumn> {
    schema
        .columns
        .iter()
        .map(|c| StoredColumn {
            name: c.name.to_string(),
            type_name: c.type_name.clone(),
        })
        .collect()
}

pub(crate) fn current_indexes(schema: &TableSchema) -> Vec<StoredIndex> {
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
pub(crate) fn reconcile(
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
    let stored: Option<StoredTable> = match &raw {
        None => None,
        Some(bytes) => Some(StoredTable::parse(table, bytes)?),
    };
    let columns = current_columns(schema);
    let indexes = current_indexes(schema);
    let index_tables: Vec<String> = schema
        .indexes
        .iter()
        .map(|i| storage::index_table_name(table, i.name))
        .collect();

    let mut stored_core = None;
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
            stored_core = Some((stored.versions.clone(), stored.indexes.clone()));
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
                let version = latest.version.checked_add(1).ok_or_else(|| {
                    storage::corrupt(
                        "__redorm_catalog",
                        None,
                        format!(
                            "the stored schema of table `{table}` is at version {}, the largest there is: the catalog is damaged",
                            latest.version
                        ),
                    )
                })?;
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
        row_facts: reg.row_facts,
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

    let record = describe(schema, versions, indexes);
    let bytes = serde_json::to_vec(&record).map_err(|e| Error::Schema {
        table: table.to_string(),
        message: format!("cannot serialize the schema: {e}"),
    })?;
    // Unchanged, it is not written: a file opened read-only then opens, and opening a file
    // writes nothing it does not have to. A file opened read-only whose record differs only
    // in what format 2 describes (written by an older redorm) keeps its record: its versions
    // and indexes are what the struct needs, and the description is written on the next
    // writable open.
    let core_unchanged = stored_core
        .as_ref()
        .is_some_and(|(v, i)| *v == record.versions && *i == record.indexes);
    if raw.as_deref() != Some(bytes.as_slice()) && !(store.is_read_only() && core_unchanged) {
        store.put_meta(Space::Catalog, table.as_bytes(), &bytes)?;
    }
    Ok(info)
}

pub(crate) fn check_columns(
    table: &str,
    schema: &TableSchema,
    stored: &[StoredColumn],
) -> Result<()> {
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
