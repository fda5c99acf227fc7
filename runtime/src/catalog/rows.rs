//! Rows as the catalog knows them: decoding stored bytes (older schema versions included),
//! encoding rows and their index keys, building an index from existing rows.

use std::ops::Bound;

use super::registry::TableInfo;
use crate::codec::row::RowHeader;
use crate::error::{Error, Result};
use crate::model::{Doc, FieldError, Id, Table};
use crate::storage::{self, Sink, Source, WriteStore};

pub(crate) fn decode_doc<T: Table>(info: &TableInfo, id: u64, bytes: &[u8]) -> Result<Doc<T>> {
    let (header, value) = decode_parts(info, id, bytes)?;
    Ok(Doc::from_parts(Id::from_raw(id), header, value))
}

/// Decodes stored row `id` into its header and value (with the layout of the schema version
/// it was written with).
pub(crate) fn decode_parts<T: Table>(
    info: &TableInfo,
    id: u64,
    bytes: &[u8],
) -> Result<(RowHeader, T)> {
    let mut input = bytes;
    let header = read_header(info, id, &mut input)?;
    let value = decode_value(info, id, &header, input)?;
    Ok((header, value))
}

/// Reads the header off the front of a stored row.
pub(crate) fn read_header(info: &TableInfo, id: u64, input: &mut &[u8]) -> Result<RowHeader> {
    RowHeader::read(input).map_err(|e| storage::corrupt(info.schema.name, Some(id), e.detail))
}

/// Decodes the columns that follow the header `header` of stored row `id`.
pub(crate) fn decode_value<T: Table>(
    info: &TableInfo,
    id: u64,
    header: &RowHeader,
    mut input: &[u8],
) -> Result<T> {
    let table = info.schema.name;
    let layout = if header.version == info.version {
        None
    } else {
        match info.layouts.get(&header.version) {
            Some(layout) => Some(layout.as_slice()),
            None => {
                return Err(storage::corrupt(
                    table,
                    Some(id),
                    format!("row written with unknown schema version {}", header.version),
                ));
            }
        }
    };
    let value = T::decode_row(layout, &mut input).map_err(|e| field_corrupt(info, id, e))?;
    if !input.is_empty() {
        return Err(storage::corrupt(
            table,
            Some(id),
            format!("{} unexpected bytes after the last column", input.len()),
        ));
    }
    Ok(value)
}

pub(crate) fn field_corrupt(info: &TableInfo, id: u64, e: FieldError) -> Error {
    Error::Corrupt {
        table: info.schema.name.to_string(),
        id: Some(id),
        column: info.schema.columns.get(e.column).map(|c| c.name),
        detail: e.error.detail,
    }
}

/// The key (without the id suffix) a row has in one index, and whether it takes part in the
/// uniqueness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexKey {
    pub(crate) prefix: Vec<u8>,
    pub(crate) checked: bool,
}

pub(crate) fn index_keys<T: Table>(info: &TableInfo, value: &T) -> Result<Vec<IndexKey>> {
    let mut keys = Vec::with_capacity(info.schema.indexes.len());
    for index in &info.schema.indexes {
        let mut prefix = Vec::new();
        let mut has_null = false;
        for &col in &index.columns {
            value
                .encode_column_key(col, &mut prefix)
                .map_err(|e| Error::Encode {
                    table: T::NAME,
                    column: info.schema.columns[col].name,
                    detail: e.detail,
                })?;
            has_null |= value.column_is_null(col);
        }
        keys.push(IndexKey {
            prefix,
            checked: index.unique && (index.nulls_not_distinct || !has_null),
        });
    }
    Ok(keys)
}

pub(crate) fn fk_values<T: Table>(info: &TableInfo, value: &T) -> Vec<Option<u64>> {
    info.schema
        .foreign_keys
        .iter()
        .map(|fk| value.column_id(fk.column))
        .collect()
}

pub(crate) fn full_key(prefix: &[u8], id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + storage::ID_LEN);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

pub(crate) fn key_debug<T: Table>(info: &TableInfo, pos: usize, value: &T) -> String {
    let cols = &info.schema.indexes[pos].columns;
    if let [single] = cols.as_slice() {
        value.column_debug(*single)
    } else {
        let parts: Vec<String> = cols.iter().map(|&c| value.column_debug(c)).collect();
        format!("({})", parts.join(", "))
    }
}

pub(crate) fn encode_row<T: Table>(
    info: &TableInfo,
    header: &RowHeader,
    value: &T,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    header.write(&mut out);
    value.encode_row(&mut out).map_err(|e| Error::Encode {
        table: T::NAME,
        column: info.schema.columns.get(e.column).map_or("?", |c| c.name),
        detail: e.error.detail,
    })?;
    Ok(out)
}

/// The first row under `prefix` in index `pos` that conflicts with a row `except` for a
/// unique check: any other row, or, for an index that releases soft-deleted values, any other
/// live row.
pub(crate) fn unique_conflict<S: Source>(
    s: &S,
    info: &TableInfo,
    pos: usize,
    prefix: &[u8],
    except: Option<u64>,
) -> Result<Option<u64>> {
    for id in storage::probe(s, &info.index_tables[pos], prefix)? {
        if Some(id) == except {
            continue;
        }
        if info.released[pos] {
            let deleted =
                storage::row_header(s, info.schema.name, id)?.is_some_and(|h| h.deleted.is_some());
            if deleted {
                continue;
            }
        }
        return Ok(Some(id));
    }
    Ok(None)
}

/// What the integrity check needs of one stored row, read without naming its type.
pub(crate) struct RowFacts {
    /// The soft-delete stamp.
    pub(crate) deleted: Option<(i64, u64)>,
    /// The row's key in each index, in schema order.
    pub(crate) keys: Vec<IndexKey>,
    /// The value of each foreign key, in schema order.
    pub(crate) fks: Vec<Option<u64>>,
}

/// Decodes a stored row of `T` into its [`RowFacts`] (registered per table, type-erased).
pub(crate) fn row_facts<T: Table>(info: &TableInfo, id: u64, bytes: &[u8]) -> Result<RowFacts> {
    let (header, value) = decode_parts::<T>(info, id, bytes)?;
    Ok(RowFacts {
        deleted: header.deleted,
        keys: index_keys(info, &value)?,
        fks: fk_values(info, &value),
    })
}

/// Builds index `pos` of table `T` from the rows already stored (used when opening a database
/// whose struct declares an index the file does not have yet).
pub(crate) fn build_index<T: Table>(
    store: &mut WriteStore,
    info: &TableInfo,
    pos: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let index = &info.schema.indexes[pos];
    let table_name = &info.index_tables[pos];
    // Start from an empty table: an index whose definition changed is rebuilt in full.
    store.drop_index(table_name)?;
    store.create_index(table_name)?;
    let mut rows: Vec<(u64, IndexKey, String)> = Vec::new();
    store.scan_rows(
        T::NAME,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        &mut |id, bytes| {
            let doc = decode_doc::<T>(info, id, bytes)?;
            let keys = index_keys(info, doc.value())?;
            let debug = key_debug(info, pos, doc.value());
            let Some(key) = keys.into_iter().nth(pos) else {
                return Err(storage::corrupt(
                    T::NAME,
                    Some(id),
                    "index position out of range",
                ));
            };
            rows.push((id, key, debug));
            Ok(true)
        },
    )?;
    let mut done = 0u64;
    for (id, key, debug) in rows {
        if key.checked
            && let Some(existing) = unique_conflict(store, info, pos, &key.prefix, Some(id))?
        {
            return Err(Error::Unique {
                table: T::NAME,
                index: index.name,
                value: debug,
                existing,
            });
        }
        store.put_index(table_name, &full_key(&key.prefix, id))?;
        done += 1;
        if done.is_multiple_of(1024) {
            progress(done);
        }
    }
    progress(done);
    Ok(())
}
