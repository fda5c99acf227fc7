//! Database operations: cache size, read-only opening, a file held by another process,
//! compaction, redb's file check, and backups taken while a writer goes on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redorm::prelude::*;
use redorm::{BackupReport, Error, MemoryEngine};

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "notes")]
struct Note {
    #[index]
    text: String,
    n: u64,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "tags")]
struct Tag {
    #[unique]
    name: String,
}

/// `notes` with one more index than `Note`: opening a file of `Note` with it must build it.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "notes")]
struct NoteIndexed {
    #[index]
    text: String,
    #[index]
    n: u64,
}

fn file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn fill(path: &Path, n: u64) {
    let db = Db::builder()
        .table::<Note>()
        .table::<Tag>()
        .open(path)
        .unwrap();
    db.write(|tx| {
        for i in 0..n {
            tx.insert(Note {
                text: format!("note {i}"),
                n: i,
            })?;
        }
        tx.insert(Tag { name: "red".into() })?;
        Ok(())
    })
    .unwrap();
}

fn texts(db: &Db) -> Vec<String> {
    db.read()
        .unwrap()
        .query::<Note>()
        .all()
        .unwrap()
        .into_iter()
        .map(|d| d.into_inner().text)
        .collect()
}

#[test]
fn a_cache_size_opens_the_file_as_usual() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "a.redb");
    fill(&path, 3);
    let db = Db::builder()
        .table::<Note>()
        .table::<Tag>()
        .cache_size(64 * 1024)
        .open(&path)
        .unwrap();
    assert_eq!(texts(&db), ["note 0", "note 1", "note 2"]);
}

#[test]
fn read_only_reads_and_refuses_every_write_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "ro.redb");
    fill(&path, 2);
    let before = std::fs::read(&path).unwrap();
    let db = Db::builder()
        .table::<Note>()
        .table::<Tag>()
        .open_read_only(&path)
        .unwrap();
    assert_eq!(texts(&db), ["note 0", "note 1"]);
    let tx = db.read().unwrap();
    let found = tx.get_by(Tag::by_name(), "red").unwrap().unwrap();
    assert_eq!(found.name, "red");
    drop(tx);

    let err = db
        .write(|tx| {
            tx.insert(Tag {
                name: "blue".into(),
            })
        })
        .unwrap_err();
    assert!(matches!(&err, Error::ReadOnly { path: p, operation: "write" } if p == &path));
    assert_eq!(
        err.to_string(),
        format!(
            "write needs to change `{}`, which was opened read-only; open it with \
             `Db::builder().open(..)` to change it",
            path.display()
        )
    );
    assert!(matches!(db.begin_write(), Err(Error::ReadOnly { .. })));
    // with no job due, running jobs only reads
    assert!(db.run_due_jobs().is_ok());
    assert!(matches!(
        db.compact(),
        Err(Error::ReadOnly {
            operation: "compact",
            ..
        })
    ));
    // Several readers may share the file.
    let second = Db::builder()
        .table::<Note>()
        .table::<Tag>()
        .open_read_only(&path)
        .unwrap();
    assert_eq!(texts(&second), ["note 0", "note 1"]);
    drop((db, second));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file was changed"
    );
}

#[test]
fn read_only_refuses_a_schema_that_opening_would_have_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "ro-schema.redb");
    fill(&path, 2);
    let err = Db::builder()
        .table::<NoteIndexed>()
        .table::<Tag>()
        .open_read_only(&path)
        .unwrap_err();
    assert!(
        matches!(&err, Error::ReadOnly { path: p, .. } if p == &path),
        "{err}"
    );
    // a missing file is not created
    let missing = file(&dir, "missing.redb");
    let err = Db::builder()
        .table::<Note>()
        .open_read_only(&missing)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` does not exist; a database opened read-only must exist already",
            missing.display()
        )
    );
    assert!(!missing.exists());
    // the file still opens for writing, and builds the index then
    let db = Db::builder()
        .table::<NoteIndexed>()
        .table::<Tag>()
        .open(&path)
        .unwrap();
    let n = db
        .read()
        .unwrap()
        .query::<NoteIndexed>()
        .filter(NoteIndexed::n().eq(1u64))
        .count()
        .unwrap();
    assert_eq!(n, 1);
}

const HOLD_ENV: &str = "REDORM_OPERATIONS_HOLD";

/// Not a test of its own: the child process of `a_file_another_process_holds_is_refused`
/// (this binary again): it opens the file, writes `ready` beside it, and holds it until
/// `release` appears. Without the variable it returns at once.
#[test]
fn hold_child_entry() {
    let Some(path) = std::env::var_os(HOLD_ENV) else {
        return;
    };
    let path = PathBuf::from(path);
    let db = Db::builder().table::<Note>().open(&path).unwrap();
    std::fs::write(path.with_extension("ready"), b"").unwrap();
    let started = Instant::now();
    while !path.with_extension("release").exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(db);
}

#[test]
fn a_file_another_process_holds_is_refused_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "held.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["hold_child_entry", "--exact", "--test-threads=1"])
        .env(HOLD_ENV, &path)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !path.with_extension("ready").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the child never opened the file"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child exited early"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let err = Db::builder().table::<Note>().open(&path).unwrap_err();
    let read_only = Db::builder().table::<Note>().open_read_only(&path);
    std::fs::write(path.with_extension("release"), b"").unwrap();
    assert!(child.wait().unwrap().success());

    assert_eq!(
        err.to_string(),
        format!(
            "`{}` is already open, by another process or another `Db` in this one; close it \
             there, or share one `Db` (it is `Clone`) between the parts of your program",
            path.display()
        )
    );
    assert!(matches!(read_only, Err(Error::AlreadyOpen { path: p }) if p == path));
    // once the child let go, it opens
    Db::builder().table::<Note>().open(&path).unwrap();
}

#[test]
fn a_second_db_on_one_file_in_this_process_is_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "twice.redb");
    let first = Db::builder().table::<Note>().open(&path).unwrap();
    let err = Db::builder().table::<Note>().open(&path).unwrap_err();
    assert!(matches!(err, Error::AlreadyOpen { path: p } if p == path));
    drop(first);
}

#[test]
fn compact_shrinks_the_file_and_needs_it_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "compact.redb");
    let db = Db::builder().table::<Note>().open(&path).unwrap();
    let ids = db
        .write(|tx| {
            tx.insert_many((0..2000).map(|i| Note {
                text: "x".repeat(500),
                n: i,
            }))
        })
        .unwrap();
    db.write(|tx| ids[1..].iter().try_for_each(|&id| tx.delete(id)))
        .unwrap();
    let before = std::fs::metadata(&path).unwrap().len();

    let open = db.read().unwrap();
    let err = db.compact().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "compact needs `{}` to itself, but transactions are open on it; drop every `ReadTx`, \
             `WriteTx` and `QueryIter` (and stop the job worker), then call it again",
            path.display()
        )
    );
    assert!(matches!(
        db.check_file(),
        Err(Error::Busy {
            operation: "check_file",
            ..
        })
    ));
    drop(open);

    assert!(db.compact().unwrap());
    while db.compact().unwrap() {}
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(after * 4 < before, "{before} -> {after} bytes");
    assert!(db.check_file().unwrap());
    assert!(db.check_integrity().unwrap().is_ok());
    assert_eq!(db.read().unwrap().query::<Note>().count().unwrap(), 1);
}

#[test]
fn compact_and_check_file_are_unsupported_on_the_memory_engine() {
    let db = Db::builder()
        .table::<Note>()
        .open_memory_engine(&MemoryEngine::new())
        .unwrap();
    assert_eq!(
        db.compact().unwrap_err().to_string(),
        "compact is not available on MemoryEngine"
    );
    assert!(matches!(db.check_file(), Err(Error::Unsupported { .. })));
}

#[test]
fn a_backup_is_a_whole_copy_including_tables_this_db_does_not_register() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "src.redb");
    fill(&path, 5);
    // Opened without `Tag`: the backup still holds the tags table and its index.
    let db = Db::builder().table::<Note>().open(&path).unwrap();
    let copy = file(&dir, "copy.redb");
    let report = db.backup_to(&copy).unwrap();
    let mut expected = BackupReport::default();
    expected.tables = 2;
    expected.rows = 6;
    expected.index_entries = 6; // notes.by_text: 5, tags.by_name: 1
    assert_eq!(report, expected);

    let restored = Db::builder()
        .table::<Note>()
        .table::<Tag>()
        .open(&copy)
        .unwrap();
    assert_eq!(
        texts(&restored),
        ["note 0", "note 1", "note 2", "note 3", "note 4"]
    );
    let tx = restored.read().unwrap();
    assert!(tx.get_by(Tag::by_name(), "red").unwrap().is_some());
    drop(tx);
    assert!(restored.check_integrity().unwrap().is_ok());
    // ids continue after the copied ones
    let id = restored
        .write(|tx| {
            tx.insert(Note {
                text: "new".into(),
                n: 9,
            })
        })
        .unwrap();
    assert_eq!(id.get(), 6);

    // a backup never overwrites
    let err = db.backup_to(&copy).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot back up to `{}`: the file exists; a backup never overwrites, so remove it or \
             choose another path",
            copy.display()
        )
    );
}

#[test]
fn a_memory_engine_database_backs_up_into_a_file() {
    let engine = MemoryEngine::new();
    let db = Db::builder()
        .table::<Note>()
        .open_memory_engine(&engine)
        .unwrap();
    db.write(|tx| {
        tx.insert(Note {
            text: "m".into(),
            n: 1,
        })
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = file(&dir, "from-memory.redb");
    db.backup_to(&copy).unwrap();
    let restored = Db::builder().table::<Note>().open(&copy).unwrap();
    assert_eq!(texts(&restored), ["m"]);
}

/// Each write transaction inserts two rows whose `n` is the same: a consistent snapshot
/// holds whole pairs, in id order, and no more than what was committed before it returned.
#[test]
fn a_backup_taken_while_a_writer_goes_on_is_one_consistent_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "busy.redb");
    let db = Db::builder().table::<Note>().open(&path).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut pairs = 0u64;
            while !stop.load(Ordering::Relaxed) || pairs < 50 {
                db.write(|tx| {
                    for _ in 0..2 {
                        tx.insert(Note {
                            text: format!("pair {pairs}"),
                            n: pairs,
                        })?;
                    }
                    Ok(())
                })
                .unwrap();
                pairs += 1;
            }
            pairs
        })
    };
    while db.read().unwrap().query::<Note>().count().unwrap() < 20 {
        std::thread::yield_now();
    }
    let copies: Vec<PathBuf> = (0..3).map(|i| file(&dir, &format!("b{i}.redb"))).collect();
    for copy in &copies {
        db.backup_to(copy).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let pairs = writer.join().unwrap();

    let mut sizes = Vec::new();
    for copy in &copies {
        let restored = Db::builder().table::<Note>().open(copy).unwrap();
        assert!(restored.check_integrity().unwrap().is_ok());
        let rows = restored.read().unwrap().query::<Note>().all().unwrap();
        assert_eq!(rows.len() % 2, 0, "a transaction was split by the backup");
        for (i, doc) in rows.iter().enumerate() {
            assert_eq!(doc.id.get(), i as u64 + 1);
            assert_eq!(doc.n, i as u64 / 2);
        }
        sizes.push(rows.len());
    }
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
    assert!(sizes[0] >= 20 && *sizes.last().unwrap() as u64 <= pairs * 2);
}
