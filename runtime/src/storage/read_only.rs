//! The writer of a file opened read-only, for opening it: a snapshot that reads as a write
//! transaction does, and refuses every change with [`Error::ReadOnly`] naming the file. Opening
//! checks the registered tables against the stored schema through it, so a schema that would
//! need the file changed (a new index to build, a new table) is refused instead of written.

use std::ops::Bound;
use std::path::PathBuf;

use super::engine::{Durability, ReadTxn, Space, WriteTxn};
use super::redb::RedbRead;
use crate::error::{Error, Result};

pub(crate) struct ReadOnlyWrite {
    pub(crate) read: RedbRead,
    pub(crate) path: PathBuf,
}

impl ReadOnlyWrite {
    fn refuse<R>(&self) -> Result<R> {
        Err(Error::ReadOnly {
            path: self.path.clone(),
            operation: "opening with this schema (it would change the stored schema or indexes)",
        })
    }
}

impl ReadTxn for ReadOnlyWrite {
    fn get<R>(
        &self,
        space: Space<'_>,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        self.read.get(space, key, f)
    }

    fn scan(
        &self,
        space: Space<'_>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.read.scan(space, lo, hi, reverse, f)
    }

    fn scan_keys(
        &self,
        space: Space<'_>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: impl FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.read.scan_keys(space, lo, hi, reverse, f)
    }

    fn len(&self, space: Space<'_>) -> Result<Option<u64>> {
        self.read.len(space)
    }

    fn get_row<R>(&self, table: &str, id: u64, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.read.get_row(table, id, f)
    }

    fn scan_rows(
        &self,
        table: &str,
        lo: Bound<u64>,
        hi: Bound<u64>,
        reverse: bool,
        f: impl FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        self.read.scan_rows(table, lo, hi, reverse, f)
    }
}

impl WriteTxn for ReadOnlyWrite {
    fn put(&mut self, _: Space<'_>, _: &[u8], _: &[u8]) -> Result<bool> {
        self.refuse()
    }
    fn put_new(&mut self, _: Space<'_>, _: &[u8], _: &[u8]) -> Result<bool> {
        self.refuse()
    }
    fn remove(&mut self, _: Space<'_>, _: &[u8]) -> Result<bool> {
        self.refuse()
    }
    fn create(&mut self, _: Space<'_>) -> Result<()> {
        self.refuse()
    }
    fn drop_space(&mut self, _: Space<'_>) -> Result<()> {
        self.refuse()
    }
    fn set_durability(&mut self, _: Durability) -> Result<()> {
        Ok(())
    }
    fn commit(self) -> Result<()> {
        Ok(())
    }
    fn rollback(self) -> Result<()> {
        Ok(())
    }
}
