//! Cursor pagination: order, stability under concurrent writes (property test), binding to the
//! query, and every bad cursor.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashMap};

mod common;

use common::{Engine, OpenOn, engines};
use proptest::prelude::*;
use redorm::prelude::*;
use redorm::{Cursor, Error};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "entries", index(by_group_score = [group, score]))]
struct Entry {
    group: u8,
    score: i32,
    name: String,
}

fn fill(db: &Db, rows: &[(u8, i32)]) -> Vec<Id<Entry>> {
    db.write(|tx| {
        rows.iter()
            .enumerate()
            .map(|(i, &(group, score))| {
                tx.insert(Entry {
                    group,
                    score,
                    name: format!("n{i}"),
                })
            })
            .collect()
    })
    .unwrap()
}

fn all_pages(
    db: &Db,
    size: usize,
    q: impl Fn(&redorm::ReadTx) -> redorm::Query<'_, Entry>,
) -> Vec<Vec<u64>> {
    let mut pages = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let tx = db.read().unwrap();
        let page = q(&tx).paginate(cursor.as_ref(), size).unwrap();
        pages.push(page.items.iter().map(|d| d.id.get()).collect());
        assert_eq!(page.is_done, page.next_cursor.is_none());
        if page.is_done {
            return pages;
        }
        cursor = page.next_cursor;
    }
}

#[apply(engines)]
fn pages_without_order_go_by_id(engine: Engine) {
    let db = Db::builder().table::<Entry>().open_on(engine);
    fill(&db, &[(1, 5), (2, 3), (1, 1), (3, 9), (2, 2)]);
    let pages = all_pages(&db, 2, |tx| tx.query::<Entry>());
    assert_eq!(pages, vec![vec![1, 2], vec![3, 4], vec![5]]);
}

#[apply(engines)]
fn pages_follow_an_index_order_and_merge_probes(engine: Engine) {
    let db = Db::builder().table::<Entry>().open_on(engine);
    fill(&db, &[(1, 5), (2, 3), (1, 1), (3, 9), (2, 2), (1, 3)]);
    let pages = all_pages(&db, 2, |tx| {
        tx.query::<Entry>()
            .filter(Entry::group().in_([1u8, 2]))
            .order_by(Entry::score().desc())
    });
    // Scores: 5 (id1), 3 (id2), 3 (id6), 2 (id5), 1 (id3); equal scores by id descending.
    assert_eq!(pages, vec![vec![1, 6], vec![2, 5], vec![3]]);
}

#[apply(engines)]
fn an_exact_multiple_of_the_page_size_ends_with_a_done_page(engine: Engine) {
    let db = Db::builder().table::<Entry>().open_on(engine);
    fill(&db, &[(1, 1), (1, 2), (1, 3), (1, 4)]);
    let tx = db.read().unwrap();
    let q = || {
        tx.query::<Entry>()
            .filter(Entry::group().eq(1u8))
            .order_by(Entry::score().asc())
    };
    let first = q().paginate(None, 2).unwrap();
    assert!(!first.is_done);
    let second = q().paginate(first.next_cursor.as_ref(), 2).unwrap();
    assert_eq!(second.items.len(), 2);
    assert!(second.is_done, "no empty trailing page");
    assert!(second.next_cursor.is_none());
    let empty = Db::builder().table::<Entry>().open_on(engine);
    let page = empty
        .read()
        .unwrap()
        .query::<Entry>()
        .paginate(None, 10)
        .unwrap();
    assert!(page.items.is_empty() && page.is_done);
}

#[apply(engines)]
fn cursors_survive_their_string_form(engine: Engine) {
    let db = Db::builder().table::<Entry>().open_on(engine);
    fill(&db, &[(1, 1), (1, 2), (1, 3)]);
    let tx = db.read().unwrap();
    let q = || {
        tx.query::<Entry>()
            .filter(Entry::group().eq(1u8))
            .order_by(Entry::score().asc())
    };
    let page = q().paginate(None, 1).unwrap();
    let text = page.next_cursor.unwrap().to_string();
    let back: Cursor = text.parse().unwrap();
    let next = q().paginate(Some(&back), 5).unwrap();
    assert_eq!(
        next.items.iter().map(|d| d.score).collect::<Vec<_>>(),
        [2, 3]
    );
}

#[apply(engines)]
fn bad_cursors_are_typed_errors(engine: Engine) {
    let db = Db::builder().table::<Entry>().open_on(engine);
    fill(&db, &[(1, 1), (1, 2), (2, 3)]);
    let tx = db.read().unwrap();
    let q = || {
        tx.query::<Entry>()
            .filter(Entry::group().eq(1u8))
            .order_by(Entry::score().asc())
    };
    let good = q().paginate(None, 1).unwrap().next_cursor.unwrap();
    let text = good.to_string();

    let reason = |c: &str| match q().paginate(Some(&c.parse().unwrap()), 1).unwrap_err() {
        Error::InvalidCursor {
            table: "entries",
            reason,
        } => reason,
        other => panic!("expected InvalidCursor, got {other:?}"),
    };
    assert!(reason("not a cursor").contains("not a cursor this library produced"));
    assert!(reason("").contains("truncated"));
    assert!(reason("abc").contains("not a cursor this library produced"));
    assert!(reason(&text[..10]).contains("truncated"));
    // Cut short: refused as truncated (no longer base64 of whole bytes) or as altered.
    let cut = reason(&text[..text.len() - 2]);
    assert!(
        cut.contains("truncated") || cut.contains("altered"),
        "{cut}"
    );
    // Flip one character in the middle.
    let mut tampered: Vec<char> = text.chars().collect();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == '0' { '1' } else { '0' };
    let tampered: String = tampered.into_iter().collect();
    assert!(reason(&tampered).contains("altered"));

    // A cursor from another query (other filter, other order, other table's query).
    let other = tx
        .query::<Entry>()
        .filter(Entry::group().eq(2u8))
        .order_by(Entry::score().asc())
        .paginate(Some(&good), 1)
        .unwrap_err();
    assert!(
        matches!(&other, Error::InvalidCursor { reason, .. } if reason.contains("another query")),
        "{other:?}"
    );
    let other = tx
        .query::<Entry>()
        .filter(Entry::group().eq(1u8))
        .order_by(Entry::score().desc())
        .paginate(Some(&good), 1)
        .unwrap_err();
    assert!(matches!(other, Error::InvalidCursor { .. }));

    // A cursor from another database with the same schema and query.
    let db2 = Db::builder().table::<Entry>().open_on(engine);
    fill(&db2, &[(1, 1), (1, 2)]);
    let err = db2
        .read()
        .unwrap()
        .query::<Entry>()
        .filter(Entry::group().eq(1u8))
        .order_by(Entry::score().asc())
        .paginate(Some(&good), 1)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidCursor { reason, .. } if reason.contains("another database")),
        "{err:?}"
    );
}

#[apply(engines)]
fn conflicting_options_are_refused(engine: Engine) {
    let db = Db::builder().table::<Entry>().open_on(engine);
    let tx = db.read().unwrap();
    let err = tx.query::<Entry>().offset(3).paginate(None, 2).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery { reason, .. } if reason.contains("offset and limit")),
        "{err:?}"
    );
    let err = tx.query::<Entry>().limit(3).paginate(None, 2).unwrap_err();
    assert!(matches!(err, Error::InvalidQuery { .. }));
    let err = tx.query::<Entry>().paginate(None, 0).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery { reason, .. } if reason.contains("at least one row")),
        "{err:?}"
    );
}

#[derive(Debug, Clone)]
enum Change {
    Insert(u8, i32),
    Delete(usize),
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    ById,
    OneProbeAsc,
    MergedDesc,
    SortedInMemory,
}

fn query<'a>(tx: &'a redorm::ReadTx, shape: Shape) -> redorm::Query<'a, Entry> {
    match shape {
        Shape::ById => tx.query::<Entry>(),
        Shape::OneProbeAsc => tx
            .query::<Entry>()
            .filter(Entry::group().eq(1u8))
            .order_by(Entry::score().asc()),
        Shape::MergedDesc => tx
            .query::<Entry>()
            .filter(Entry::group().in_([0u8, 1, 2]))
            .order_by(Entry::score().desc()),
        Shape::SortedInMemory => tx
            .query::<Entry>()
            .order_by(Entry::name().desc())
            .allow_full_scan(),
    }
}

fn matches(shape: Shape, e: &Entry) -> bool {
    match shape {
        Shape::ById | Shape::SortedInMemory => true,
        Shape::OneProbeAsc => e.group == 1,
        Shape::MergedDesc => e.group <= 2,
    }
}

/// Property test: rows inserted and deleted between pages never make a row that existed
/// throughout be skipped or repeated, and no row is ever returned twice.
#[apply(engines)]
fn rows_that_exist_throughout_appear_exactly_once(engine: Engine) {
    proptest!(ProptestConfig::with_cases(48), |(
        initial in prop::collection::vec((0u8..4, -5i32..5), 0..30),
        changes in prop::collection::vec(
            prop::collection::vec(prop_oneof![
                (0u8..4, -5i32..5).prop_map(|(g, s)| Change::Insert(g, s)),
                (0usize..64).prop_map(Change::Delete),
            ], 0..4),
            0..12),
        size in 1usize..5,
        shape in prop_oneof![Just(Shape::ById), Just(Shape::OneProbeAsc), Just(Shape::MergedDesc), Just(Shape::SortedInMemory)],
    )| {
        let db = Db::builder().table::<Entry>().open_on(engine);
        let ids = fill(&db, &initial);
        let mut rows: HashMap<u64, Entry> = ids.iter().zip(&initial).map(|(id, &(group, score))| {
            (id.get(), Entry { group, score, name: String::new() })
        }).collect();
        let mut deleted: BTreeSet<u64> = BTreeSet::new();
        let mut live: Vec<u64> = ids.iter().map(|i| i.get()).collect();
        let mut seen: Vec<u64> = Vec::new();
        let mut cursor: Option<Cursor> = None;
        let mut changes = changes.into_iter();
        let mut n_inserted = 0;
        loop {
            let page = {
                let tx = db.read().unwrap();
                query(&tx, shape).paginate(cursor.as_ref(), size).unwrap()
            };
            seen.extend(page.items.iter().map(|d| d.id.get()));
            if page.is_done { break; }
            cursor = page.next_cursor;
            for change in changes.next().unwrap_or_default() {
                match change {
                    Change::Insert(g, s) => {
                        n_inserted += 1;
                        let id = db.write(|tx| tx.insert(Entry { group: g, score: s, name: format!("new{n_inserted}") })).unwrap();
                        live.push(id.get());
                        rows.insert(id.get(), Entry { group: g, score: s, name: String::new() });
                    }
                    Change::Delete(i) if !live.is_empty() => {
                        let id = live.remove(i % live.len());
                        db.write(|tx| tx.delete(Id::<Entry>::from_raw(id))).unwrap();
                        deleted.insert(id);
                    }
                    Change::Delete(_) => {}
                }
            }
        }
        let unique: BTreeSet<u64> = seen.iter().copied().collect();
        prop_assert_eq!(unique.len(), seen.len(), "a row was repeated: {:?}", seen);
        for id in &ids {
            let id = id.get();
            if !deleted.contains(&id) && matches(shape, &rows[&id]) {
                prop_assert!(unique.contains(&id), "row {} existed throughout but was skipped; saw {:?}", id, seen);
            }
        }
    });
}
