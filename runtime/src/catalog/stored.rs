//! The schema stored in the file, and reconciling it with the registered structs when a
//! database opens: new versions, new and dropped indexes, refused changes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::registry::{IndexBuildProgress, ProgressFn, Registration, TableInfo};
use crate::codec::seal::{KEY_LEN, SealKey};
use crate::error::{Error, Result};
use crate::model::{DeleteMode, TableSchema};
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
            match serde_json::from_slice::<StoredTable>(value) {
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
                    bad = Some(format!(
                        "the stored schema of table `{name}` does not parse: {e}"
                    ));
                    Ok(false)
                }
            }
        })?;
    match bad {
        Some(detail) => Err(storage::corrupt("__redorm_catalog", None, detail)),
        None => Ok(tables),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredTable {
    pub(crate) versions: Vec<StoredVersion>,
    pub(crate) indexes: Vec<StoredIndex>,
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
        Some(bytes) => Some(serde_json::from_slice(bytes).map_err(|e| {
            storage::corrupt(
                "__redorm_catalog",
                None,
                format!("the stored schema of table `{table}` does not parse: {e}"),
            )
        })?),
    };
    let columns = current_columns(schema);
    let indexes = current_indexes(schema);
    let index_tables: Vec<String> = schema
        .indexes
        .iter()
        .map(|i| storage::index_table_name(table, i.name))
        .collect();

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

    let record = StoredTable { versions, indexes };
    let bytes = serde_json::to_vec(&record).map_err(|e| Error::Schema {
        table: table.to_string(),
        message: format!("cannot serialize the schema: {e}"),
    })?;
    // Unchanged, it is not written: a file opened read-only then opens, and opening a file
    // writes nothing it does not have to.
    if raw.as_deref() != Some(bytes.as_slice()) {
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
