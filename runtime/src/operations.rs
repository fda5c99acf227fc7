//! Operations on the database file as a whole: backup, compaction, redb's own file check.

use std::ops::Bound::Unbounded;
use std::path::Path;

use crate::catalog::stored_keyspaces;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::storage::{
    AnyEngine, OpenOptions, ReadStore, ReadTxn, RedbEngine, Source, Space, WriteStore,
};

/// What [`Db::backup_to`] copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BackupReport {
    /// Tables copied (every table the file holds, registered with this `Db` or not).
    pub tables: usize,
    /// Rows copied, over all tables.
    pub rows: u64,
    /// Index entries copied, over all indexes.
    pub index_entries: u64,
}

impl Db {
    /// Writes a consistent snapshot of the whole database into a new file at `path`: every
    /// table, index, counter, scheduled job and the stored schema, as of the moment the backup
    /// began. Writers go on meanwhile; what they commit after that moment is not in the copy.
    /// The copy is an ordinary database file: open it with [`Db::builder`] as the original
    /// (cursors handed out by the original work on it too).
    ///
    /// `path` must not exist yet ([`Error::Backup`] otherwise: a backup never overwrites).
    /// It works from any engine, so a [`MemoryEngine`](crate::MemoryEngine) or in-memory
    /// database can be saved to a file this way.
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Note { text: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let dir = tempfile::tempdir().unwrap();
    /// let db = Db::builder().table::<Note>().open(dir.path().join("live.redb"))?;
    /// db.write(|tx| tx.insert(Note { text: "before".into() }))?;
    ///
    /// let report = db.backup_to(dir.path().join("copy.redb"))?;
    /// assert_eq!((report.tables, report.rows), (1, 1));
    /// db.write(|tx| tx.insert(Note { text: "after".into() }))?;   // not in the copy
    ///
    /// let copy = Db::builder().table::<Note>().open(dir.path().join("copy.redb"))?;
    /// assert_eq!(copy.read()?.query::<Note>().count()?, 1);
    /// # Ok(()) }
    /// ```
    pub fn backup_to(&self, path: impl AsRef<Path>) -> Result<BackupReport> {
        let path = path.as_ref();
        let refuse = |reason: &str| Error::Backup {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        if path.exists() {
            return Err(refuse(
                "the file exists; a backup never overwrites, so remove it or choose another path",
            ));
        }
        // The snapshot first: everything below reads it, whatever writers commit meanwhile.
        let source = ReadStore::begin(&self.inner.engine)?;
        let target = AnyEngine::Redb(RedbEngine::open(path, OpenOptions::default())?);
        let mut out = WriteStore::begin(&target)?;
        let mut report = BackupReport::default();
        copy_space(&source, &mut out, Space::Catalog)?;
        copy_space(&source, &mut out, Space::Seq)?;
        copy_space(&source, &mut out, Space::Jobs)?;
        for (table, indexes) in stored_keyspaces(&source)? {
            report.tables += 1;
            out.create_rows(&table)?;
            report.rows += copy_space(&source, &mut out, Space::Rows(&table))?;
            for index in &indexes {
                out.create_index(index)?;
                report.index_entries += copy_space(&source, &mut out, Space::Index(index))?;
            }
        }
        drop(source);
        out.commit()?;
        Ok(report)
    }

    /// Gives the file's free pages back to the file system (redb's compaction), after deletes
    /// left it larger than its data. Returns whether anything was moved. It needs the file to
    /// itself: with any transaction of this `Db` open (a `ReadTx`, a `WriteTx`, a `QueryIter`,
    /// the job worker at work) it is [`Error::Busy`], and nothing changed.
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Blob { bytes: Vec<u8> }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("blobs.redb");
    /// let db = Db::builder().table::<Blob>().open(&path)?;
    /// let ids = db.write(|tx| tx.insert_many((0..200).map(|_| Blob { bytes: vec![7; 4096] })))?;
    /// db.write(|tx| ids.into_iter().try_for_each(|id| tx.delete(id)))?;
    /// let before = std::fs::metadata(&path).unwrap().len();
    /// while db.compact()? {}
    /// assert!(std::fs::metadata(&path).unwrap().len() < before);
    ///
    /// let open = db.read()?;
    /// assert!(matches!(db.compact(), Err(redorm::Error::Busy { .. })));
    /// # drop(open);
    /// # Ok(()) }
    /// ```
    pub fn compact(&self) -> Result<bool> {
        match &self.inner.engine {
            AnyEngine::Redb(e) => e.compact(),
            AnyEngine::Memory(_) => Err(Error::Unsupported {
                operation: "compact",
                engine: "MemoryEngine",
            }),
        }
    }

    /// redb's own check of the file: the checksums of every page and the allocator's state,
    /// repairing what redb can. Returns whether the file was sound. It complements
    /// [`check_integrity`](Db::check_integrity), which checks redorm's data (rows, indexes,
    /// foreign keys, jobs) and runs beside other transactions; redb's check needs the file to
    /// itself, so with any transaction of this `Db` open it is [`Error::Busy`].
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Note { text: String }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let dir = tempfile::tempdir().unwrap();
    /// let db = Db::builder().table::<Note>().open(dir.path().join("notes.redb"))?;
    /// db.write(|tx| tx.insert(Note { text: "hi".into() }))?;
    /// assert!(db.check_file()?);
    /// assert!(db.check_integrity()?.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn check_file(&self) -> Result<bool> {
        match &self.inner.engine {
            AnyEngine::Redb(e) => e.check_file(),
            AnyEngine::Memory(_) => Err(Error::Unsupported {
                operation: "check_file",
                engine: "MemoryEngine",
            }),
        }
    }
}

/// Copies every entry of `space`; returns how many.
fn copy_space(source: &ReadStore, out: &mut WriteStore, space: Space<'_>) -> Result<u64> {
    let mut entries = Vec::new();
    let mut n = 0u64;
    // Batches keep memory bounded on large tables: scan a batch, write it, go on after its
    // last key.
    const BATCH: usize = 4096;
    let mut after: Option<Vec<u8>> = None;
    loop {
        entries.clear();
        let lo = match &after {
            Some(k) => std::ops::Bound::Excluded(k.as_slice()),
            None => Unbounded,
        };
        source.txn().scan(space, lo, Unbounded, false, |k, v| {
            entries.push((k.to_vec(), v.to_vec()));
            Ok(entries.len() < BATCH)
        })?;
        for (k, v) in &entries {
            out.put_meta(space, k, v)?;
        }
        n += entries.len() as u64;
        match entries.last() {
            Some((k, _)) if entries.len() == BATCH => after = Some(k.clone()),
            _ => return Ok(n),
        }
    }
}
