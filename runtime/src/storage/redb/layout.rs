//! How each keyspace maps onto a typed redb table, and the reads every redb transaction kind
//! shares (point get, range scans), with redb's errors turned into the crate's.

use std::ops::Bound;

use redb::{ReadableTable, TableDefinition};

use crate::error::{Error, Result, StorageError};
use crate::storage::engine::is_empty_range;

/// Any redb error, as the crate's opaque storage error.
pub(crate) fn st<E: Into<redb::Error>>(e: E) -> Error {
    Error::Storage(StorageError::new(e.into()))
}

pub(crate) fn internal(detail: &str) -> Error {
    Error::Corrupt {
        table: "-".to_string(),
        id: None,
        column: None,
        detail: format!("internal error: {detail}; please report this"),
    }
}

/// How one keyspace's keys and values travel between bytes and redb's types.
pub(crate) trait Layout {
    type K: redb::Key + 'static;
    type V: redb::Value + 'static;
    fn key_in(bytes: &[u8]) -> Result<<Self::K as redb::Value>::SelfType<'_>>;
    fn val_in(bytes: &[u8]) -> Result<<Self::V as redb::Value>::SelfType<'_>>;
    /// `f` of a value as bytes.
    fn value<R>(value: <Self::V as redb::Value>::SelfType<'_>, f: impl FnOnce(&[u8]) -> R) -> R;
    /// `f` of an entry as bytes (this runs once per entry of a scan).
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(
        key: <Self::K as redb::Value>::SelfType<'_>,
        value: <Self::V as redb::Value>::SelfType<'_>,
        f: &mut F,
    ) -> Result<bool>;
    /// `f` of a key as bytes.
    fn key<F: FnMut(&[u8]) -> Result<bool>>(
        key: <Self::K as redb::Value>::SelfType<'_>,
        f: &mut F,
    ) -> Result<bool>;
}

pub(crate) fn u64_be(bytes: &[u8]) -> Result<u64> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| internal("a row key is not 8 bytes"))
}

pub(crate) fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| internal("a catalog or counter key is not UTF-8"))
}

pub(crate) struct RowsL;
impl Layout for RowsL {
    type K = u64;
    type V = &'static [u8];
    fn key_in(b: &[u8]) -> Result<u64> {
        u64_be(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(k: u64, v: &[u8], f: &mut F) -> Result<bool> {
        f(&k.to_be_bytes(), v)
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: u64, f: &mut F) -> Result<bool> {
        f(&k.to_be_bytes())
    }
    fn val_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn value<R>(v: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
        f(v)
    }
}

pub(crate) struct IndexL;
impl Layout for IndexL {
    type K = &'static [u8];
    type V = ();
    fn key_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(k: &[u8], _: (), f: &mut F) -> Result<bool> {
        f(k, &[])
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: &[u8], f: &mut F) -> Result<bool> {
        f(k)
    }
    fn val_in(_: &[u8]) -> Result<()> {
        Ok(())
    }
    fn value<R>(_: (), f: impl FnOnce(&[u8]) -> R) -> R {
        f(&[])
    }
}

pub(crate) struct CatalogL;
impl Layout for CatalogL {
    type K = &'static str;
    type V = &'static [u8];
    fn key_in(b: &[u8]) -> Result<&str> {
        utf8(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(k: &str, v: &[u8], f: &mut F) -> Result<bool> {
        f(k.as_bytes(), v)
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: &str, f: &mut F) -> Result<bool> {
        f(k.as_bytes())
    }
    fn val_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn value<R>(v: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
        f(v)
    }
}

pub(crate) struct SeqL;
impl Layout for SeqL {
    type K = &'static str;
    type V = u64;
    fn key_in(b: &[u8]) -> Result<&str> {
        utf8(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(k: &str, v: u64, f: &mut F) -> Result<bool> {
        f(k.as_bytes(), &v.to_le_bytes())
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: &str, f: &mut F) -> Result<bool> {
        f(k.as_bytes())
    }
    fn val_in(b: &[u8]) -> Result<u64> {
        <[u8; 8]>::try_from(b)
            .map(u64::from_le_bytes)
            .map_err(|_| internal("a counter value is not 8 bytes"))
    }
    fn value<R>(v: u64, f: impl FnOnce(&[u8]) -> R) -> R {
        f(&v.to_le_bytes())
    }
}

pub(crate) struct JobsL;
impl Layout for JobsL {
    type K = &'static [u8];
    type V = &'static [u8];
    fn key_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn entry<F: FnMut(&[u8], &[u8]) -> Result<bool>>(
        k: &[u8],
        v: &[u8],
        f: &mut F,
    ) -> Result<bool> {
        f(k, v)
    }
    fn key<F: FnMut(&[u8]) -> Result<bool>>(k: &[u8], f: &mut F) -> Result<bool> {
        f(k)
    }
    fn val_in(b: &[u8]) -> Result<&[u8]> {
        Ok(b)
    }
    fn value<R>(v: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
        f(v)
    }
}

pub(crate) const CATALOG: TableDefinition<'static, &str, &[u8]> =
    TableDefinition::new("__redorm_catalog");
pub(crate) const SEQ: TableDefinition<'static, &str, u64> = TableDefinition::new("__redorm_seq");
pub(crate) const JOBS: TableDefinition<'static, &[u8], &[u8]> =
    TableDefinition::new("__redorm_jobs");

pub(crate) fn row_def(name: &str) -> TableDefinition<'_, u64, &'static [u8]> {
    TableDefinition::new(name)
}

pub(crate) fn index_def(name: &str) -> TableDefinition<'_, &'static [u8], ()> {
    TableDefinition::new(name)
}

pub(crate) fn get_in<L: Layout, T: ReadableTable<L::K, L::V>, R>(
    table: &T,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>> {
    match table.get(L::key_in(key)?) {
        Ok(found) => Ok(found.map(|guard| L::value(guard.value(), f))),
        Err(e) => Err(st(e)),
    }
}

pub(crate) fn bound_in<L: Layout>(
    b: Bound<&[u8]>,
) -> Result<Bound<<L::K as redb::Value>::SelfType<'_>>> {
    Ok(match b {
        Bound::Included(k) => Bound::Included(L::key_in(k)?),
        Bound::Excluded(k) => Bound::Excluded(L::key_in(k)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

pub(crate) fn scan_in<L: Layout, T: ReadableTable<L::K, L::V>>(
    table: &T,
    lo: Bound<&[u8]>,
    hi: Bound<&[u8]>,
    reverse: bool,
    visit: impl FnMut(
        <L::K as redb::Value>::SelfType<'_>,
        <L::V as redb::Value>::SelfType<'_>,
    ) -> Result<bool>,
) -> Result<()> {
    // Byte order is key order for every layout (big-endian ids, byte strings, UTF-8).
    if is_empty_range(&lo, &hi) {
        return Ok(());
    }
    let range = table
        .range((bound_in::<L>(lo)?, bound_in::<L>(hi)?))
        .map_err(st)?;
    walk(range, reverse, visit)
}

/// A row table's rows by id range, without turning ids into bytes and back.
pub(crate) fn scan_ids<T: ReadableTable<u64, &'static [u8]>>(
    table: &T,
    lo: Bound<u64>,
    hi: Bound<u64>,
    reverse: bool,
    f: impl FnMut(u64, &[u8]) -> Result<bool>,
) -> Result<()> {
    if is_empty_range(&lo.as_ref(), &hi.as_ref()) {
        return Ok(());
    }
    let range = table.range::<u64>((lo, hi)).map_err(st)?;
    walk(range, reverse, f)
}

/// Calls `visit` with each entry of `range` (reversed when `reverse`) until it returns `false`.
fn walk<K: redb::Key + 'static, V: redb::Value + 'static>(
    range: redb::Range<'_, K, V>,
    reverse: bool,
    mut visit: impl FnMut(K::SelfType<'_>, V::SelfType<'_>) -> Result<bool>,
) -> Result<()> {
    // Each direction has its own loop, as a hand-written one would: this runs once per entry.
    if reverse {
        for entry in range.rev() {
            // A `match`, not `map_err`: re-wrapping the entry in another `Result` copies its
            // page guards, once per entry.
            let (k, v) = match entry {
                Ok(kv) => kv,
                Err(e) => return Err(st(e)),
            };
            if !visit(k.value(), v.value())? {
                break;
            }
        }
    } else {
        for entry in range {
            let (k, v) = match entry {
                Ok(kv) => kv,
                Err(e) => return Err(st(e)),
            };
            if !visit(k.value(), v.value())? {
                break;
            }
        }
    }
    Ok(())
}
