//! Damage done to a database file behind the library's back — row bytes, index keys, the
//! catalog, the counters and the stored jobs — must surface as typed errors naming what is
//! damaged: never a panic (debug test builds check for overflow, so an overflowing counter
//! shows as one), never a silent overwrite of what is still there.
//!
//! On redb only: each test writes into the file with redb directly, through the same table
//! definitions the library uses (`storage/redb/layout.rs`), between two opens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use redorm::prelude::*;
use redorm::{Error, FailedJob, IntegrityProblem, JobKey, ManualClock};

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
struct User {
    #[unique]
    email: String,
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "uploads", delete = scheduled(delay = "1h"))]
struct Upload {
    #[unique]
    path: String,
}

/// `users` with one more column: opening with it adds a schema version.
mod v2 {
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "users")]
    pub struct User {
        #[unique]
        pub email: String,
        pub name: String,
        #[default(0u32)]
        pub age: u32,
    }
}

// The library's own table definitions (runtime/src/storage/redb/layout.rs).
const CATALOG: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("__redorm_catalog");
const SEQ: TableDefinition<'static, &str, u64> = TableDefinition::new("__redorm_seq");
const JOBS: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("__redorm_jobs");
const USERS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("users");
const USERS_BY_EMAIL: TableDefinition<'static, &[u8], ()> = TableDefinition::new("users#by_email");

const HOUR: Duration = Duration::from_secs(3600);
const START_MS: i64 = 1_000_000;

/// A database file in a temporary directory, opened and closed by each step of a test.
struct File {
    path: PathBuf,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

impl File {
    fn new() -> File {
        let dir = tempfile::tempdir().unwrap();
        File {
            path: dir.path().join("corrupt.redb"),
            clock: ManualClock::new(START_MS),
            _dir: dir,
        }
    }

    fn try_open(&self) -> redorm::Result<Db> {
        Db::builder()
            .table::<User>()
            .table::<Upload>()
            .clock(self.clock.clone())
            .open(&self.path)
    }

    fn open(&self) -> Db {
        self.try_open().expect("the database opens")
    }

    /// Writes into the closed file with redb directly, in one committed transaction.
    fn damage(&self, f: impl FnOnce(&redb::WriteTransaction)) {
        let raw = redb::Database::open(&self.path).unwrap();
        let txn = raw.begin_write().unwrap();
        f(&txn);
        txn.commit().unwrap();
    }

    /// Reads the closed file with redb directly.
    fn inspect<R>(&self, f: impl FnOnce(&redb::ReadTransaction) -> R) -> R {
        let raw = redb::Database::open(&self.path).unwrap();
        let txn = raw.begin_read().unwrap();
        f(&txn)
    }

    fn row_bytes(&self, id: u64) -> Option<Vec<u8>> {
        self.inspect(|txn| {
            let t = txn.open_table(USERS).unwrap();
            t.get(id).unwrap().map(|g| g.value().to_vec())
        })
    }

    fn all_rows(&self) -> Vec<(u64, Vec<u8>)> {
        self.inspect(|txn| {
            let t = txn.open_table(USERS).unwrap();
            t.iter()
                .unwrap()
                .map(|e| {
                    let (k, v) = e.unwrap();
                    (k.value(), v.value().to_vec())
                })
                .collect()
        })
    }

    fn index_keys(&self) -> Vec<Vec<u8>> {
        self.inspect(|txn| {
            let t = txn.open_table(USERS_BY_EMAIL).unwrap();
            t.iter()
                .unwrap()
                .map(|e| e.unwrap().0.value().to_vec())
                .collect()
        })
    }

    fn counter(&self, name: &str) -> Option<u64> {
        self.inspect(|txn| {
            let t = txn.open_table(SEQ).unwrap();
            t.get(name).unwrap().map(|g| g.value())
        })
    }

    fn catalog(&self, key: &str) -> Option<Vec<u8>> {
        self.inspect(|txn| {
            let t = txn.open_table(CATALOG).unwrap();
            t.get(key).unwrap().map(|g| g.value().to_vec())
        })
    }

    fn jobs(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.inspect(|txn| match txn.open_table(JOBS) {
            Ok(t) => t
                .iter()
                .unwrap()
                .map(|e| {
                    let (k, v) = e.unwrap();
                    (k.value().to_vec(), v.value().to_vec())
                })
                .collect(),
            Err(redb::TableError::TableDoesNotExist(_)) => Vec::new(),
            Err(e) => panic!("{e}"),
        })
    }

    fn set_counter(&self, name: &str, value: u64) {
        self.damage(|txn| {
            txn.open_table(SEQ).unwrap().insert(name, value).unwrap();
        });
    }
}

fn user(email: &str, name: &str) -> User {
    User {
        email: email.into(),
        name: name.into(),
    }
}

/// A closed file holding users 1..=3 (`a@x` Ann, `b@x` Bob, `c@x` Cy).
fn seeded() -> (File, [Id<User>; 3]) {
    let file = File::new();
    let db = file.open();
    let ids = db
        .write(|tx| {
            Ok([
                tx.insert(user("a@x", "Ann"))?,
                tx.insert(user("b@x", "Bob"))?,
                tx.insert(user("c@x", "Cy"))?,
            ])
        })
        .unwrap();
    drop(db);
    (file, ids)
}

/// The key `value` has in a one-column string index, without the id suffix.
fn str_key(value: &str) -> Vec<u8> {
    let mut k = Vec::new();
    redorm::codec::put_key_bytes(&mut k, value.as_bytes());
    k
}

fn index_entry(value: &str, id: u64) -> Vec<u8> {
    let mut k = str_key(value);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// Asserts `err` is `Error::Corrupt` with this table and row, and returns its column and detail.
#[track_caller]
fn corrupt_at(
    err: &Error,
    want_table: &str,
    want_id: Option<u64>,
) -> (Option<&'static str>, String) {
    match err {
        Error::Corrupt {
            table,
            id,
            column,
            detail,
        } => {
            assert_eq!(
                (table.as_str(), *id),
                (want_table, want_id),
                "wrong place in {err}"
            );
            (*column, detail.clone())
        }
        other => panic!("expected Error::Corrupt in `{want_table}`, got {other:?}"),
    }
}

/// The problems `check_integrity` finds.
fn problems(db: &Db) -> Vec<IntegrityProblem> {
    let report = db.check_integrity().unwrap();
    assert_eq!(report.is_ok(), report.problems.is_empty());
    // Every problem is listed in the report's text.
    let text = report.to_string();
    for p in &report.problems {
        assert!(text.contains(&format!("\n- {p}")), "{text}");
    }
    report.problems
}

fn stray(id: Option<u64>) -> IntegrityProblem {
    IntegrityProblem::StrayIndexEntry {
        table: "users".into(),
        index: "by_email".into(),
        id,
    }
}

// ---- ids in their string form ----------------------------------------------------------------

#[test]
fn ids_parse_only_in_their_canonical_form() {
    assert_eq!("users:7".parse::<Id<User>>().unwrap(), Id::from_raw(7));
    assert_eq!(
        "users:18446744073709551615".parse::<Id<User>>().unwrap(),
        Id::from_raw(u64::MAX)
    );
    for bad in [
        "users:+1",
        "users:007",
        "users:0",
        "users:00",
        "users:-1",
        "users:",
        "users: 7",
        "users:7 ",
        "users:1_000",
        "users:18446744073709551616",
        "users",
        "7",
        "uploads:7",
        ":7",
    ] {
        match bad.parse::<Id<User>>() {
            Err(Error::InvalidId {
                table: "users",
                input,
                ..
            }) => assert_eq!(input, bad),
            other => panic!("`{bad}` parsed as {other:?}"),
        }
    }
    // The string form of every id parses back to it.
    for raw in [1, 7, 10, 1000, u64::MAX] {
        let id = Id::<User>::from_raw(raw);
        assert_eq!(id.to_string().parse::<Id<User>>().unwrap(), id);
    }
}

// ---- row bytes -------------------------------------------------------------------------------

/// Every read and write that touches damaged row 2 fails with `Corrupt` naming it; the other rows
/// read; nothing overwrites the damaged bytes.
fn assert_row_2_is_reported(file: &File, ids: [Id<User>; 3], damaged: &[u8]) {
    let db = file.open();
    let tx = db.read().unwrap();
    assert_eq!(tx.get(ids[0]).unwrap().unwrap().name, "Ann");
    assert_eq!(tx.get(ids[2]).unwrap().unwrap().name, "Cy");
    corrupt_at(&tx.get(ids[1]).unwrap_err(), "users", Some(2));
    corrupt_at(
        &tx.get_including_deleted(ids[1]).unwrap_err(),
        "users",
        Some(2),
    );
    corrupt_at(
        &tx.get_by(User::by_email(), "b@x").unwrap_err(),
        "users",
        Some(2),
    );
    corrupt_at(&tx.query::<User>().all().unwrap_err(), "users", Some(2));
    corrupt_at(
        &tx.get_many([ids[0], ids[1]]).unwrap_err(),
        "users",
        Some(2),
    );
    // Counting reads no row.
    assert_eq!(tx.query::<User>().count().unwrap(), 3);
    drop(tx);

    let err = db
        .write(|tx| tx.patch(ids[1], |u| u.name = "Eve".into()))
        .unwrap_err();
    corrupt_at(&err, "users", Some(2));
    let err = db
        .write(|tx| tx.replace(ids[1], user("e@x", "Eve")))
        .unwrap_err();
    corrupt_at(&err, "users", Some(2));
    corrupt_at(
        &db.write(|tx| tx.delete(ids[1])).unwrap_err(),
        "users",
        Some(2),
    );
    corrupt_at(
        &db.write(|tx| tx.hard_delete(ids[1])).unwrap_err(),
        "users",
        Some(2),
    );
    // Writes that do not touch row 2 go on, with fresh ids.
    let d = db.write(|tx| tx.insert(user("d@x", "Dee"))).unwrap();
    assert_eq!(d.get(), 4);
    db.write(|tx| tx.patch(ids[0], |u| u.name = "Ann B".into()))
        .unwrap();
    // The integrity check names the row; its index entry, which no readable row gives, is
    // reported too.
    let error = db.read().unwrap().get(ids[1]).unwrap_err().to_string();
    assert_eq!(
        problems(&db),
        vec![
            IntegrityProblem::UnreadableRow {
                table: "users".into(),
                id: 2,
                error
            },
            stray(Some(2)),
        ]
    );
    drop(db);
    assert_eq!(
        file.row_bytes(2).as_deref(),
        Some(damaged),
        "row 2 was rewritten"
    );
}

#[test]
fn truncated_and_extended_rows_are_corrupt_errors_naming_table_and_row() {
    let (file, ids) = seeded();
    let good = file.row_bytes(2).unwrap();
    // Every strict prefix of a row is damaged: a column (or the header) runs out.
    for len in [0, 1, 2, 3, good.len() / 2, good.len() - 1] {
        let (file, ids) = seeded();
        let cut = good[..len].to_vec();
        file.damage(|txn| {
            txn.open_table(USERS).unwrap().insert(2, &cut[..]).unwrap();
        });
        assert_row_2_is_reported(&file, ids, &cut);
    }
    // One byte too many.
    let mut long = good.clone();
    long.push(0);
    file.damage(|txn| {
        txn.open_table(USERS).unwrap().insert(2, &long[..]).unwrap();
    });
    assert_row_2_is_reported(&file, ids, &long);
    let db = file.open();
    let (_, detail) = corrupt_at(
        &db.read().unwrap().get(ids[1]).unwrap_err(),
        "users",
        Some(2),
    );
    assert_eq!(detail, "1 unexpected bytes after the last column");
}

#[test]
fn a_row_of_an_unknown_schema_version_or_format_is_named() {
    let (file, ids) = seeded();
    let good = file.row_bytes(2).unwrap();
    let mut unknown_version = good.clone();
    unknown_version[1] = 9; // the version varint (1 fits one byte)
    let mut unknown_format = good.clone();
    unknown_format[0] = 7;
    // Version u32::MAX + 1 as a varint: out of range for a schema version.
    let mut huge_version = vec![1u8, 0x80, 0x80, 0x80, 0x80, 0x10];
    huge_version.extend_from_slice(&good[2..]);
    for (bytes, want) in [
        (unknown_version, "row written with unknown schema version 9"),
        (unknown_format, "unknown row format 7"),
        (huge_version, "schema version out of range"),
    ] {
        file.damage(|txn| {
            txn.open_table(USERS)
                .unwrap()
                .insert(2, &bytes[..])
                .unwrap();
        });
        let db = file.open();
        let (column, detail) = corrupt_at(
            &db.read().unwrap().get(ids[1]).unwrap_err(),
            "users",
            Some(2),
        );
        assert_eq!((column, detail.as_str()), (None, want));
        drop(db);
        assert_eq!(file.row_bytes(2), Some(bytes));
    }
}

/// Row bytes to store as row 2: anything at all, a valid header followed by anything (so the
/// columns are what is damaged), or a prefix of a valid row.
fn damaged_row() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..48),
        (
            prop_oneof![Just(vec![1u8, 1, 0, 0]), Just(vec![1u8, 1, 0, 1, 4, 2])],
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(mut header, tail)| {
                header.extend(tail);
                header
            }),
        (any::<prop::sample::Index>(), "[a-z]{0,6}", "[a-z]{0,6}").prop_map(|(cut, e, n)| {
            // A valid row as the library writes it (format 1, version 1, created_at 0, no
            // deletion, two length-prefixed strings), cut short.
            let mut row = vec![1u8, 1, 0, 0];
            for s in [e, n] {
                row.push(s.len() as u8);
                row.extend_from_slice(s.as_bytes());
            }
            row.truncate(cut.index(row.len()));
            row
        }),
    ]
}

/// Whether `bytes` start with a row header that decodes and marks the row soft-deleted.
fn says_deleted(bytes: &[u8]) -> bool {
    let mut input = bytes;
    let Ok([1]) = redorm::codec::take_array::<1>(&mut input, "format") else {
        return false;
    };
    let version = redorm::codec::get_varint(&mut input);
    let created = redorm::codec::get_varint(&mut input);
    let flags = redorm::codec::take_array::<1>(&mut input, "flags");
    let at = redorm::codec::get_varint(&mut input);
    let token = redorm::codec::get_varint(&mut input);
    matches!(version, Ok(v) if v <= u64::from(u32::MAX))
        && created.is_ok()
        && matches!(flags, Ok([1]))
        && at.is_ok()
        && token.is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever bytes row 2 holds, reading and writing never panics: a row that does not decode
    /// is `Corrupt` naming table and row, is never overwritten, and the other rows are unharmed.
    #[test]
    fn random_row_bytes_are_an_error_or_a_row_never_a_panic(bytes in damaged_row()) {
        let (file, ids) = seeded();
        file.damage(|txn| {
            txn.open_table(USERS).unwrap().insert(2, &bytes[..]).unwrap();
        });
        let db = file.open();
        let tx = db.read().unwrap();
        let decoded = match tx.get_including_deleted(ids[1]) {
            Ok(doc) => {
                let doc = doc.expect("row 2 exists");
                prop_assert_eq!(doc.id, ids[1]);
                true
            }
            Err(e) => {
                corrupt_at(&e, "users", Some(2));
                false
            }
        };
        prop_assert_eq!(tx.get(ids[0]).unwrap().unwrap().into_inner(), user("a@x", "Ann"));
        prop_assert_eq!(tx.get(ids[2]).unwrap().unwrap().into_inner(), user("c@x", "Cy"));
        let all = tx.query::<User>().include_deleted().all();
        let by_email = tx.get_by(User::by_email(), "b@x");
        drop(tx);
        let patched = db.write(|tx| tx.patch(ids[1], |u| u.name = "Eve".into()));
        let deleted = db.write(|tx| tx.delete(ids[1]));
        if !decoded {
            corrupt_at(&all.unwrap_err(), "users", Some(2));
            corrupt_at(&by_email.unwrap_err(), "users", Some(2));
            for refused in [patched.unwrap_err(), deleted.unwrap_err()] {
                match refused {
                    // A header that says "soft-deleted" is enough to know the row is gone
                    // for `patch` and `delete` of a hard table.
                    Error::NotFound { table: "users", id: 2 } if says_deleted(&bytes) => {}
                    other => drop(corrupt_at(&other, "users", Some(2))),
                }
            }
        } else {
            prop_assert_eq!(all.unwrap().len(), 3);
        }
        let d = db.write(|tx| tx.insert(user("d@x", "Dee"))).unwrap();
        prop_assert_eq!(d.get(), 4);
        let unreadable = problems(&db).iter().any(|p| {
            matches!(p, IntegrityProblem::UnreadableRow { table, id: 2, .. } if table == "users")
        });
        prop_assert_eq!(unreadable, !decoded);
        drop(db);
        if !decoded {
            prop_assert_eq!(file.row_bytes(2), Some(bytes));
        }
    }
}

// ---- index keys ------------------------------------------------------------------------------

#[test]
fn an_index_key_shorter_than_an_id_is_corrupt() {
    let (file, ids) = seeded();
    // The bare key of `b@x`, without the id suffix: 5 bytes.
    let short = str_key("b@x");
    assert!(short.len() < 8);
    file.damage(|txn| {
        txn.open_table(USERS_BY_EMAIL)
            .unwrap()
            .insert(&short[..], ())
            .unwrap();
    });
    let db = file.open();
    let tx = db.read().unwrap();
    let (_, detail) = corrupt_at(
        &tx.get_by(User::by_email(), "b@x").unwrap_err(),
        "users",
        None,
    );
    assert_eq!(detail, "index key shorter than an id");
    // A query through the index, streamed...
    let err = tx
        .query::<User>()
        .filter(User::email().eq("b@x"))
        .all()
        .unwrap_err();
    corrupt_at(&err, "users", None);
    // ...or sorted in memory, sees it too.
    let err = tx
        .query::<User>()
        .filter(User::email().gte("b@x"))
        .order_by(User::name().desc())
        .all()
        .unwrap_err();
    corrupt_at(&err, "users", None);
    // The rows themselves are fine.
    assert_eq!(tx.get(ids[1]).unwrap().unwrap().email, "b@x");
    assert_eq!(
        tx.get_by(User::by_email(), "a@x").unwrap().unwrap().id,
        ids[0]
    );
    drop(tx);
    assert_eq!(problems(&db), vec![stray(None)]);
    assert_eq!(
        stray(None).to_string(),
        "index `by_email` of `users` has a key too short for an id"
    );
    drop(db);
    assert!(file.index_keys().contains(&short));
}

#[test]
fn an_index_key_pointing_at_a_missing_row_is_corrupt() {
    let (file, ids) = seeded();
    let ghost = index_entry("ghost@x", 99);
    file.damage(|txn| {
        txn.open_table(USERS_BY_EMAIL)
            .unwrap()
            .insert(&ghost[..], ())
            .unwrap();
    });
    let db = file.open();
    let tx = db.read().unwrap();
    let (_, detail) = corrupt_at(
        &tx.get_by(User::by_email(), "ghost@x").unwrap_err(),
        "users",
        Some(99),
    );
    assert_eq!(
        detail,
        "index `by_email` points to a row that does not exist"
    );
    let err = tx
        .query::<User>()
        .filter(User::email().eq("ghost@x"))
        .all()
        .unwrap_err();
    let (_, detail) = corrupt_at(&err, "users", Some(99));
    assert_eq!(detail, "an index entry points to a row that does not exist");
    let err = tx
        .query::<User>()
        .filter(User::email().gte("b@x"))
        .order_by(User::name().desc())
        .all()
        .unwrap_err();
    corrupt_at(&err, "users", Some(99));
    assert_eq!(
        tx.get_by(User::by_email(), "b@x").unwrap().unwrap().id,
        ids[1]
    );
    drop(tx);
    assert_eq!(problems(&db), vec![stray(Some(99))]);
    assert_eq!(
        stray(Some(99)).to_string(),
        "index `by_email` of `users` has an entry for row 99, which no row gives"
    );
    drop(db);
    assert!(file.index_keys().contains(&ghost));
}

/// A row without its index entry cannot be found through the index, so no read can tell;
/// the integrity check does.
#[test]
fn a_missing_index_entry_is_reported_by_the_integrity_check() {
    let (file, ids) = seeded();
    {
        let db = file.open();
        assert_eq!(problems(&db), Vec::new());
        let report = db.check_integrity().unwrap();
        assert_eq!(
            (report.tables, report.rows, report.index_entries),
            (2, 3, 3)
        );
    }
    file.damage(|txn| {
        txn.open_table(USERS_BY_EMAIL)
            .unwrap()
            .remove(&index_entry("a@x", 1)[..])
            .unwrap();
    });
    let db = file.open();
    let tx = db.read().unwrap();
    assert!(tx.get_by(User::by_email(), "a@x").unwrap().is_none());
    assert_eq!(tx.get(ids[0]).unwrap().unwrap().email, "a@x");
    drop(tx);
    let missing = IntegrityProblem::MissingIndexEntry {
        table: "users".into(),
        index: "by_email".into(),
        id: 1,
    };
    assert_eq!(problems(&db), vec![missing.clone()]);
    assert_eq!(
        missing.to_string(),
        "row users:1 has no entry in index `by_email`"
    );
}

// ---- the catalog -----------------------------------------------------------------------------

/// Opening a file whose stored schema is damaged is refused with `Corrupt` in the catalog, and
/// the open changes nothing.
#[test]
fn a_garbage_catalog_entry_is_refused_and_left_as_it_is() {
    for (garbage, want) in [
        (
            &b"{not json"[..],
            "the stored schema of table `users` does not parse",
        ),
        (
            &b"\xff\xfe\x00"[..],
            "the stored schema of table `users` does not parse",
        ),
        (
            &br#"{"versions":[],"indexes":[]}"#[..],
            "the stored schema of table `users` has no versions",
        ),
    ] {
        let (file, _) = seeded();
        file.damage(|txn| {
            txn.open_table(CATALOG)
                .unwrap()
                .insert("users", garbage)
                .unwrap();
        });
        let rows = file.all_rows();
        let err = file.try_open().unwrap_err();
        let (column, detail) = corrupt_at(&err, "__redorm_catalog", None);
        assert_eq!(column, None);
        assert!(detail.starts_with(want), "{detail}");
        assert_eq!(file.catalog("users").as_deref(), Some(garbage));
        assert_eq!(file.all_rows(), rows);
    }
}

/// The cursor key lives in the catalog too: a damaged one is refused, not replaced by a fresh
/// one (which would silently invalidate every cursor handed out).
#[test]
fn a_garbage_cursor_key_is_refused_not_replaced() {
    let (file, _) = seeded();
    assert_eq!(
        file.catalog("__redorm_cursor_key").map(|k| k.len()),
        Some(32)
    );
    file.damage(|txn| {
        txn.open_table(CATALOG)
            .unwrap()
            .insert("__redorm_cursor_key", &b"xyz"[..])
            .unwrap();
    });
    let err = file.try_open().unwrap_err();
    let (_, detail) = corrupt_at(&err, "__redorm_catalog", None);
    assert_eq!(
        detail,
        "the cursor key `__redorm_cursor_key` is 3 bytes, not 32: the catalog is damaged; \
         restore the file from a backup"
    );
    assert_eq!(
        file.catalog("__redorm_cursor_key").as_deref(),
        Some(&b"xyz"[..])
    );
}

/// A stored schema version at `u32::MAX`: opening with a changed struct would need the next
/// version, which does not exist.
#[test]
fn a_schema_version_at_u32_max_refuses_a_new_version() {
    let (file, ids) = seeded();
    let mut stored: serde_json::Value =
        serde_json::from_slice(&file.catalog("users").unwrap()).unwrap();
    stored["versions"][0]["version"] = serde_json::json!(u32::MAX);
    let stored = serde_json::to_vec(&stored).unwrap();
    // The rows, rewritten with that version in their header.
    let rows: Vec<(u64, Vec<u8>)> = file
        .all_rows()
        .into_iter()
        .map(|(id, bytes)| {
            let mut out = vec![1u8, 0xff, 0xff, 0xff, 0xff, 0x0f];
            out.extend_from_slice(&bytes[2..]);
            (id, out)
        })
        .collect();
    file.damage(|txn| {
        txn.open_table(CATALOG)
            .unwrap()
            .insert("users", &stored[..])
            .unwrap();
        let mut t = txn.open_table(USERS).unwrap();
        for (id, bytes) in &rows {
            t.insert(*id, &bytes[..]).unwrap();
        }
    });
    // The same struct opens and reads: no new version is needed.
    {
        let db = file.open();
        assert_eq!(db.read().unwrap().get(ids[1]).unwrap().unwrap().name, "Bob");
    }
    // (That open wrote the catalog back, in its own spelling of the same JSON.)
    let stored = file.catalog("users").unwrap();
    // A changed one is refused, naming the table, and nothing changes.
    let err = Db::builder()
        .table::<v2::User>()
        .open(&file.path)
        .unwrap_err();
    let (_, detail) = corrupt_at(&err, "__redorm_catalog", None);
    assert_eq!(
        detail,
        "the stored schema of table `users` is at version 4294967295, the largest there is: \
         the catalog is damaged"
    );
    assert_eq!(file.catalog("users"), Some(stored));
    assert_eq!(file.all_rows(), rows);
}

// ---- counters --------------------------------------------------------------------------------

/// Asserts that `err` is `Corrupt` in the counters naming counter `name`.
#[track_caller]
fn assert_counter_error(err: &Error, name: &str) {
    let (_, detail) = corrupt_at(err, "__redorm_seq", None);
    assert!(
        detail.contains(&format!("(counter `{name}`) is at its largest value")),
        "{detail}"
    );
}

#[test]
fn a_table_sequence_at_u64_max_refuses_the_insert() {
    let (file, ids) = seeded();
    file.set_counter("users", u64::MAX);
    let rows = file.all_rows();
    let db = file.open();
    let err = db.write(|tx| tx.insert(user("d@x", "Dee"))).unwrap_err();
    assert_counter_error(&err, "users");
    // Reads and updates of existing rows still work.
    db.write(|tx| tx.patch(ids[0], |u| u.name = "Ann B".into()))
        .unwrap();
    assert!(
        db.read()
            .unwrap()
            .get_by(User::by_email(), "d@x")
            .unwrap()
            .is_none()
    );
    // The error says to run the integrity check: it must see the damage too.
    let found = problems(&db);
    assert!(
        found.iter().any(|p| p.to_string().contains("`users`")),
        "the integrity check misses a sequence at u64::MAX: {found:?}"
    );
    drop(db);
    assert_eq!(file.counter("users"), Some(u64::MAX));
    assert_eq!(file.all_rows().len(), rows.len());
}

#[test]
fn the_delete_token_counter_at_u64_max_refuses_a_soft_delete() {
    let file = File::new();
    let up = file
        .open()
        .write(|tx| {
            tx.insert(Upload {
                path: "a.png".into(),
            })
        })
        .unwrap();
    file.set_counter("__redorm_delete_tokens", u64::MAX);
    let db = file.open();
    let err = db.write(|tx| tx.delete(up)).unwrap_err();
    assert_counter_error(&err, "__redorm_delete_tokens");
    let tx = db.read().unwrap();
    assert_eq!(tx.get(up).unwrap().unwrap().deleted_at(), None);
    drop(tx);
    drop(db);
    assert_eq!(file.jobs(), Vec::new());
    assert_eq!(file.counter("__redorm_delete_tokens"), Some(u64::MAX));
}

#[test]
fn the_job_counter_at_u64_max_refuses_a_scheduled_delete() {
    let file = File::new();
    let up = file
        .open()
        .write(|tx| {
            tx.insert(Upload {
                path: "a.png".into(),
            })
        })
        .unwrap();
    file.set_counter("__redorm_jobs", u64::MAX);
    let db = file.open();
    let err = db.write(|tx| tx.delete(up)).unwrap_err();
    assert_counter_error(&err, "__redorm_jobs");
    assert_eq!(
        db.read().unwrap().get(up).unwrap().unwrap().deleted_at(),
        None
    );
    drop(db);
    assert_eq!(file.jobs(), Vec::new());
    assert_eq!(file.counter("__redorm_jobs"), Some(u64::MAX));
    assert_eq!(file.counter("__redorm_delete_tokens"), None);
}

/// redb types the counter table `&str -> u64`, so a counter that is not 8 bytes can only be a
/// counter table of another type under the same name.
#[test]
fn a_counter_value_that_is_not_8_bytes_is_an_error() {
    let (file, ids) = seeded();
    file.damage(|txn| {
        txn.delete_table(SEQ).unwrap();
        let def: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("__redorm_seq");
        txn.open_table(def)
            .unwrap()
            .insert("users", &[3u8, 0, 0][..])
            .unwrap();
    });
    let rows = file.all_rows();
    let db = file.open();
    let err = db.write(|tx| tx.insert(user("d@x", "Dee"))).unwrap_err();
    // redb refuses the retyped table before any byte is read: a storage error naming it.
    assert!(matches!(err, Error::Storage(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "storage: __redorm_seq is of type Table<&str, &[u8]>"
    );
    assert_eq!(db.read().unwrap().get(ids[2]).unwrap().unwrap().name, "Cy");
    let found = problems(&db);
    assert!(
        found.iter().any(
            |p| matches!(p, IntegrityProblem::UnreadableCounter { counter, .. } if counter == "users")
        ),
        "{found:?}"
    );
    drop(db);
    assert_eq!(file.all_rows(), rows);
}

/// A sequence set back below the largest id would hand out an id that is taken: the insert
/// must be refused, never overwrite the row holding it.
#[test]
fn a_rewound_sequence_refuses_the_insert_and_keeps_the_row() {
    for rewound in [None, Some(0), Some(1), Some(2)] {
        let (file, ids) = seeded();
        file.damage(|txn| {
            let mut t = txn.open_table(SEQ).unwrap();
            match rewound {
                None => drop(t.remove("users").unwrap()),
                Some(n) => drop(t.insert("users", n).unwrap()),
            }
        });
        let rows = file.all_rows();
        let keys = file.index_keys();
        let db = file.open();
        let err = db.write(|tx| tx.insert(user("d@x", "Dee"))).unwrap_err();
        let taken = rewound.unwrap_or(0) + 1;
        let (_, detail) = corrupt_at(&err, "users", Some(taken));
        assert!(
            detail.starts_with(&format!(
                "the id sequence of `users` gave id {taken}, which a stored row already has"
            )),
            "{detail}"
        );
        let tx = db.read().unwrap();
        for (id, (email, name)) in ids
            .iter()
            .zip([("a@x", "Ann"), ("b@x", "Bob"), ("c@x", "Cy")])
        {
            let by_email = tx.get_by(User::by_email(), email).unwrap().unwrap();
            assert_eq!((by_email.id, by_email.name.as_str()), (*id, name));
            assert_eq!(tx.get(*id).unwrap().unwrap().email, email);
        }
        assert!(tx.get_by(User::by_email(), "d@x").unwrap().is_none());
        drop(tx);
        assert_eq!(
            problems(&db),
            vec![IntegrityProblem::CounterBehind {
                counter: "users".into(),
                value: rewound.unwrap_or(0),
                highest: 3
            }]
        );
        drop(db);
        assert_eq!(file.all_rows(), rows, "rewound to {rewound:?}");
        assert_eq!(file.index_keys(), keys, "rewound to {rewound:?}");
    }
}

// ---- jobs ------------------------------------------------------------------------------------

/// A closed file with uploads 1..=3, the first two deleted (two jobs, due in an hour), and
/// the clock moved past their due time.
fn with_due_jobs() -> (File, [Id<Upload>; 3]) {
    let file = File::new();
    let db = file.open();
    let ids = db
        .write(|tx| {
            Ok([
                tx.insert(Upload { path: "1".into() })?,
                tx.insert(Upload { path: "2".into() })?,
                tx.insert(Upload { path: "3".into() })?,
            ])
        })
        .unwrap();
    db.write(|tx| {
        tx.delete(ids[0])?;
        tx.delete(ids[1])
    })
    .unwrap();
    drop(db);
    assert_eq!(file.jobs().len(), 2);
    file.clock.advance(2 * HOUR);
    (file, ids)
}

/// A job key as the library makes it: due time with the sign bit flipped, then a number.
fn job_key(due_ms: i64, number: u64) -> Vec<u8> {
    let mut k = ((due_ms as u64) ^ (1 << 63)).to_be_bytes().to_vec();
    k.extend_from_slice(&number.to_be_bytes());
    k
}

/// A job value as the library makes it: table, row id, delete token.
fn job_value(table: &str, id: u64, token: u64) -> Vec<u8> {
    let mut v = Vec::new();
    redorm::codec::put_bytes(&mut v, table.as_bytes());
    redorm::codec::put_varint(&mut v, id);
    redorm::codec::put_varint(&mut v, token);
    v
}

/// `run_due_jobs` with one damaged job stored: the damaged one is reported failed, every other
/// due job runs, and the damaged one stays stored (tried again, failing again, next time).
fn assert_bad_job_is_reported(bad_key: &[u8], bad_value: &[u8], want: FailedJob) {
    let (file, ids) = with_due_jobs();
    file.damage(|txn| {
        txn.open_table(JOBS)
            .unwrap()
            .insert(bad_key, bad_value)
            .unwrap();
    });
    let db = file.open();
    let report = db.run_due_jobs().unwrap();
    assert_eq!(report.completed, 2, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0], want);
    let tx = db.read().unwrap();
    assert!(tx.get_including_deleted(ids[0]).unwrap().is_none());
    assert!(tx.get_including_deleted(ids[1]).unwrap().is_none());
    assert!(tx.get(ids[2]).unwrap().is_some());
    drop(tx);
    let again = db.run_due_jobs().unwrap();
    assert_eq!((again.completed, &again.failed), (0, &vec![want.clone()]));
    // Listed, with its problem, and reported by the integrity check.
    let pending = db.pending_jobs().unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(
        (&pending[0].key, &pending[0].table, pending[0].id),
        (&want.key, &want.table, want.id)
    );
    assert_eq!(pending[0].problem.as_deref(), Some(want.error.as_str()));
    assert_eq!(
        problems(&db),
        vec![IntegrityProblem::BadJob {
            key: want.key.clone(),
            problem: want.error.clone()
        }]
    );
    drop(db);
    assert_eq!(file.jobs(), vec![(bad_key.to_vec(), bad_value.to_vec())]);
    // Removed by hand, it is gone; the row it named is untouched.
    let db = file.open();
    assert!(db.remove_job(&want.key).unwrap());
    assert!(!db.remove_job(&want.key).unwrap());
    assert_eq!(db.pending_jobs().unwrap(), Vec::new());
    assert_eq!(db.run_due_jobs().unwrap(), redorm::JobReport::default());
    assert_eq!(problems(&db), Vec::new());
    assert_eq!(db.read().unwrap().get(ids[2]).unwrap().unwrap().path, "3");
}

fn hex(bytes: &[u8]) -> JobKey {
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    text.parse().unwrap()
}

fn failed(key: &[u8], job: Option<(&str, u64)>, error: &str) -> FailedJob {
    FailedJob {
        key: hex(key),
        table: job.map(|j| j.0.to_string()),
        id: job.map(|j| j.1),
        error: error.to_string(),
    }
}

#[test]
fn a_job_key_shorter_than_its_prefix_fails_alone() {
    // Sorts before every real key (a prefix of them), so it is the first job the runner sees.
    let short = [0x80, 0, 0, 0, 0];
    assert_bad_job_is_reported(
        &short,
        &job_value("uploads", 3, 1),
        failed(
            &short,
            Some(("uploads", 3)),
            "the job key is 5 bytes, not 16: the jobs table is damaged",
        ),
    );
    // Long enough for a due time but not for the job's number.
    let short = &job_key(0, 0)[..12];
    assert_bad_job_is_reported(
        short,
        &job_value("uploads", 3, 1),
        failed(
            short,
            Some(("uploads", 3)),
            "the job key is 12 bytes, not 16: the jobs table is damaged",
        ),
    );
    // Too long, and undecodable too.
    let long = [job_key(0, 1), vec![7]].concat();
    assert_bad_job_is_reported(
        &long,
        &[0xff],
        failed(
            &long,
            None,
            "the job key is 17 bytes, not 16: the jobs table is damaged",
        ),
    );
}

#[test]
fn an_undecodable_job_fails_alone() {
    // Due before the real ones, so it is the first job the runner sees.
    // (Numbered within the job counter, so only the value is damaged.)
    let key = job_key(0, 1);
    let want = failed(
        &key,
        None,
        "the job does not decode: the jobs table is damaged",
    );
    assert_bad_job_is_reported(&key, &[0xff, 0xff], want.clone());
    assert_bad_job_is_reported(&key, &[], want.clone());
    // A table name that is not UTF-8.
    assert_bad_job_is_reported(&key, &[2, 0xc3, 0x28, 3, 1], want);
}
