//! `redorm::inspect` on files the library writes: older catalog records still open (and are
//! upgraded by the next writable open only), rows of older schema versions decode, pages
//! through every plan shape see each row once, and relations the file cannot resolve are
//! refused rather than guessed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use redb::{ReadableDatabase, TableDefinition};
use redorm::inspect::{Deleted, InspectError, Inspector, RowQuery, Value};
use redorm::prelude::*;
use redorm::{DeleteMode, OnDelete};

const CATALOG: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("__redorm_catalog");

#[derive(Table, Debug, Clone)]
#[table(name = "items", delete = soft, index(by_shelf_rank = [shelf, rank]))]
struct Item {
    shelf: u32,
    rank: i32,
    label: String,
}

fn items(path: &Path) -> Db {
    Db::builder().table::<Item>().open(path).unwrap()
}

fn record(path: &Path, table: &str) -> serde_json::Value {
    let db = redb::Database::open(path).unwrap();
    let tx = db.begin_read().unwrap();
    let t = tx.open_table(CATALOG).unwrap();
    let bytes = t.get(table).unwrap().unwrap().value().to_vec();
    serde_json::from_slice(&bytes).unwrap()
}

fn set_record(path: &Path, table: &str, json: &serde_json::Value) {
    let db = redb::Database::open(path).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let mut t = tx.open_table(CATALOG).unwrap();
        t.insert(table, serde_json::to_vec(json).unwrap().as_slice())
            .unwrap();
    }
    tx.commit().unwrap();
}

#[test]
fn a_format_1_record_opens_read_only_and_is_upgraded_by_a_writable_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.redb");
    drop(items(&path));
    // What a redorm before format 2 wrote: versions and indexes only.
    let full = record(&path, "items");
    assert_eq!(full["format"], 2);
    assert_eq!(full["delete"], "soft");
    let old = serde_json::json!({ "versions": full["versions"], "indexes": full["indexes"] });
    set_record(&path, "items", &old);

    let ins = Inspector::open(&path).unwrap();
    let t = ins.table("items").unwrap();
    assert_eq!((t.format, t.delete), (1, None));
    assert_eq!(t.columns[0].nullable, None);
    drop(ins);

    // A read-only open keeps the old record: it cannot write, and needs nothing changed.
    let db = Db::builder().table::<Item>().open_read_only(&path).unwrap();
    drop(db);
    assert_eq!(record(&path, "items"), old);

    drop(items(&path));
    assert_eq!(record(&path, "items"), full);
    let ins = Inspector::open(&path).unwrap();
    let t = ins.table("items").unwrap();
    assert_eq!((t.format, t.delete), (2, Some(DeleteMode::Soft)));
    assert_eq!(t.columns[0].nullable, Some(false));
}

mod v2 {
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone)]
    #[table(name = "items", delete = soft, index(by_shelf_rank = [shelf, rank]))]
    pub struct Item {
        pub shelf: u32,
        pub rank: i32,
        pub label: String,
        pub note: Option<String>,
        #[default(5u8)]
        pub stars: u8,
    }
}

#[test]
fn rows_of_an_older_schema_version_decode_with_the_new_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evolved.redb");
    let db = items(&path);
    db.write(|tx| {
        tx.insert(Item {
            shelf: 1,
            rank: -1,
            label: "old".into(),
        })
    })
    .unwrap();
    drop(db);
    let db = Db::builder().table::<v2::Item>().open(&path).unwrap();
    db.write(|tx| {
        tx.insert(v2::Item {
            shelf: 1,
            rank: 2,
            label: "new".into(),
            note: Some("hi".into()),
            stars: 3,
        })
    })
    .unwrap();
    drop(db);

    let ins = Inspector::open(&path).unwrap();
    let t = ins.table("items").unwrap();
    assert_eq!((t.version, t.older_versions.as_slice()), (2, &[1][..]));
    let page = ins.rows(&RowQuery::new("items")).unwrap();
    let values: Vec<Vec<Value>> = page
        .rows
        .iter()
        .map(|r| r.columns.iter().map(|(_, v)| v.clone()).collect())
        .collect();
    assert_eq!(
        values,
        [
            vec![
                Value::UInt(1),
                Value::Int(-1),
                Value::Text("old".into()),
                Value::Null,
                Value::Default
            ],
            vec![
                Value::UInt(1),
                Value::Int(2),
                Value::Text("new".into()),
                Value::Text("hi".into()),
                Value::UInt(3)
            ],
        ]
    );
    assert!(ins.check().unwrap().is_ok());
}

/// Every page of `query` with `limit`, concatenated: the labels, in order.
fn all_pages(ins: &Inspector, query: RowQuery, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let mut q = query.clone().limit(limit);
        if let Some(c) = cursor.take() {
            q = q.after(c);
        }
        let page = ins.rows(&q).unwrap();
        assert!(page.rows.len() <= limit);
        out.extend(page.rows.iter().map(|r| r.columns[2].1.to_string()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

#[test]
fn pages_through_every_plan_shape_see_each_row_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pages.redb");
    let db = items(&path);
    let ids = db
        .write(|tx| {
            tx.insert_many((0..20).map(|i| Item {
                shelf: i % 3,
                rank: 10 - i as i32,
                label: format!("i{i:02}"),
            }))
        })
        .unwrap();
    db.write(|tx| tx.delete(ids[4])).unwrap();
    drop(db);
    let ins = Inspector::open(&path).unwrap();
    let labels = |f: &dyn Fn(u32, i32) -> bool| -> Vec<String> {
        (0..20u32)
            .filter(|&i| i != 4 && f(i % 3, 10 - i as i32))
            .map(|i| format!("i{i:02}"))
            .collect()
    };

    // The row table, forwards and backwards.
    let q = RowQuery::new("items");
    assert_eq!(all_pages(&ins, q.clone(), 3), labels(&|_, _| true));
    let mut back = labels(&|_, _| true);
    back.reverse();
    assert_eq!(all_pages(&ins, q.clone().order_by("id", true), 4), back);

    // An equality prefix, then a range on the next column, in index order.
    let q = RowQuery::new("items")
        .filter("shelf=1".parse().unwrap())
        .filter("rank>-8".parse().unwrap())
        .order_by("rank", false);
    let plan = ins.explain(&q).unwrap();
    assert_eq!(
        plan.to_string(),
        "index `by_shelf_rank` of `items`: shelf = 1, rank > -8"
    );
    let mut want = labels(&|s, r| s == 1 && r > -8);
    want.reverse(); // rank falls as i grows
    assert_eq!(all_pages(&ins, q.clone(), 2), want);
    want.reverse();
    assert_eq!(all_pages(&ins, q.order_by("rank", true), 2), want);

    // An order no index serves: sorted in memory, paged by offset.
    let q = RowQuery::new("items").order_by("label", true);
    assert_eq!(
        ins.explain(&q).unwrap().sorted_by.as_deref(),
        Some("label descending")
    );
    let mut want = labels(&|_, _| true);
    want.reverse();
    assert_eq!(all_pages(&ins, q, 6), want);

    // Soft-deleted rows on request; id ranges from the row table.
    let q = RowQuery::new("items").deleted(Deleted::Only);
    assert_eq!(all_pages(&ins, q, 5), ["i04"]);
    let q = RowQuery::new("items")
        .filter("id>=items:18".parse().unwrap())
        .deleted(Deleted::Include);
    assert_eq!(
        ins.explain(&q).unwrap().to_string(),
        "rows of `items`: id >= items:18"
    );
    assert_eq!(all_pages(&ins, q, 5), ["i17", "i18", "i19"]);

    // A cursor of one plan is refused by another.
    let page = ins.rows(&RowQuery::new("items").limit(1)).unwrap();
    let err = ins
        .rows(
            &RowQuery::new("items")
                .order_by("label", false)
                .after(page.next.unwrap()),
        )
        .unwrap_err();
    assert!(matches!(err, InspectError::BadCursor { .. }), "{err}");
}

#[derive(Table, Debug, Clone)]
#[table(name = "people")]
#[has_many(written, Letter, by = from_id)]
struct Person {
    name: String,
}

#[derive(Table, Debug, Clone)]
#[table(name = "letters")]
struct Letter {
    #[belongs_to(from, Person, on_delete = cascade)]
    from_id: Id<Person>,
    #[belongs_to(to, Person, on_delete = set_null)]
    to_id: Option<Id<Person>>,
}

#[test]
fn a_relation_the_file_cannot_resolve_is_refused_and_set_null_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letters.redb");
    let db = Db::builder()
        .table::<Person>()
        .table::<Letter>()
        .open(&path)
        .unwrap();
    let ann = db
        .write(|tx| {
            let ann = tx.insert(Person { name: "Ann".into() })?;
            tx.insert(Letter {
                from_id: ann,
                to_id: Some(ann),
            })?;
            Ok(ann)
        })
        .unwrap();
    drop(db);
    let ins = Inspector::open(&path).unwrap();
    let letters = ins.table("letters").unwrap();
    assert_eq!(letters.foreign_keys[1].on_delete, OnDelete::SetNull);
    // Two foreign keys of `letters` point at `people`: which one `written` follows is not
    // in the file.
    let err = ins
        .get("people", ann.get(), &["written"], Deleted::Exclude)
        .unwrap_err();
    assert!(
        err.to_string().contains("several foreign keys to `people`"),
        "{err}"
    );
    // belongs_to needs only the row's own key.
    let letter = ins
        .get("letters", 1, &["from", "to"], Deleted::Exclude)
        .unwrap()
        .unwrap();
    assert_eq!(letter.relations.len(), 2);
}

#[derive(Table, Debug, Clone)]
#[table(name = "folders", delete = scheduled(delay = "1h"))]
struct Folder {
    name: String,
}

#[derive(Table, Debug, Clone)]
#[table(name = "files")]
struct File {
    #[belongs_to(folder, Folder, on_delete = cascade)]
    folder_id: Id<Folder>,
    #[unique]
    name: String,
}

#[derive(Table, Debug, Clone)]
#[table(name = "links")]
struct Link {
    #[belongs_to(target, Folder, on_delete = set_null)]
    target_id: Option<Id<Folder>>,
}

fn folders(path: &Path) -> Db {
    Db::builder()
        .table::<Folder>()
        .table::<File>()
        .table::<Link>()
        // A clock long past: the job is due by the inspector's system clock.
        .clock(redorm::ManualClock::new(1_000_000))
        .open(path)
        .unwrap()
}

#[test]
fn due_jobs_run_with_their_cascades_and_set_null_without_the_structs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.redb");
    let db = folders(&path);
    db.write(|tx| {
        let folder = tx.insert(Folder { name: "tmp".into() })?;
        for name in ["a", "b"] {
            tx.insert(File {
                folder_id: folder,
                name: name.into(),
            })?;
        }
        tx.insert(Link {
            target_id: Some(folder),
        })?;
        tx.delete(folder)
    })
    .unwrap();
    drop(db);

    let err = Inspector::open(&path).unwrap().run_due_jobs().unwrap_err();
    assert!(
        matches!(err, InspectError::Redorm(redorm::Error::ReadOnly { .. })),
        "{err}"
    );

    let ins = Inspector::open_writable(&path).unwrap();
    assert_eq!(ins.pending_jobs().unwrap().len(), 1);
    let report = ins.run_due_jobs().unwrap();
    assert_eq!(
        (
            report.completed,
            report.rows_deleted,
            report.rows_updated,
            report.failed.len()
        ),
        (1, 3, 1, 0)
    );
    assert!(ins.check().unwrap().is_ok());
    drop(ins);

    let db = folders(&path);
    let tx = db.read().unwrap();
    assert_eq!(tx.query::<File>().count().unwrap(), 0);
    assert_eq!(tx.query::<Folder>().include_deleted().count().unwrap(), 0);
    let links = tx.query::<Link>().all().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].target_id, None);
    assert!(db.check_integrity().unwrap().is_ok());
}
