//! The system columns `T::id()` and `T::created_at()` in filters and orders: served by the
//! row table (and by an index's id suffix), `created_at` never decreasing, exact results,
//! `explain` text, strict mode, and what a "newest first" page reads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use redorm::prelude::*;
use redorm::{Cursor, Error, ManualClock};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", delete = soft)]
struct Post {
    #[index]
    author: u32,
    title: String,
}

const T0: i64 = 1_000_000;

/// Ten posts (authors 1, 2, 1, 2, …); the clock steps back once, after the fifth.
fn db(engine: Engine) -> (Db, ManualClock) {
    let clock = ManualClock::new(T0);
    let db = Db::builder()
        .clock(clock.clone())
        .table::<Post>()
        .open_on(engine);
    for i in 0..10u32 {
        clock.set(if i < 5 {
            T0 + i64::from(i) * 10
        } else {
            T0 + i64::from(i) - 100
        });
        db.write(|tx| {
            tx.insert(Post {
                author: 1 + i % 2,
                title: format!("p{}", i + 1),
            })
        })
        .unwrap();
    }
    (db, clock)
}

fn ids(docs: &[Doc<Post>]) -> Vec<u64> {
    docs.iter().map(|d| d.id.get()).collect()
}

#[apply(engines)]
fn created_at_never_decreases_even_when_the_clock_steps_back(engine: Engine) {
    let (db, _) = db(engine);
    let tx = db.read().unwrap();
    let stamps: Vec<i64> = tx
        .query::<Post>()
        .all()
        .unwrap()
        .iter()
        .map(|d| d.created_at)
        .collect();
    // The clock went back to T0 - 95 for posts 6..10: they keep post 5's stamp.
    assert_eq!(
        stamps,
        [
            T0,
            T0 + 10,
            T0 + 20,
            T0 + 30,
            T0 + 40,
            T0 + 40,
            T0 + 40,
            T0 + 40,
            T0 + 40,
            T0 + 40
        ]
    );
    // Reopened in a new transaction, the stamp still comes from the newest row.
    db.write(|tx| {
        tx.insert(Post {
            author: 3,
            title: "p11".into(),
        })
    })
    .unwrap();
    let last = db
        .read()
        .unwrap()
        .query::<Post>()
        .order_by(Post::created_at().desc())
        .first();
    assert_eq!(last.unwrap().unwrap().created_at, T0 + 40);
}

#[apply(engines)]
fn id_filters_are_ranges_of_the_row_table(engine: Engine) {
    let (db, _) = db(engine);
    let tx = db.read().unwrap();
    let id = |n: u64| format!("posts:{n}").parse::<Id<Post>>().unwrap();
    let q = tx.query::<Post>().filter(Post::id().gt(id(7)));
    assert_eq!(
        q.explain(),
        "query posts\naccess: table scan in id order, range id > 7\norder: by id\npost-filter: id > posts:7\n"
    );
    assert_eq!(ids(&q.all().unwrap()), [8, 9, 10]);
    // Strict mode is content: the row table serves it.
    let q = tx.query::<Post>().filter(Post::id().between(id(3), id(5)));
    assert_eq!(ids(&q.all().unwrap()), [3, 4, 5]);
    assert_eq!(q.count().unwrap(), 3);
    let before = tx.stats();
    let q = tx
        .query::<Post>()
        .filter(Post::id().in_([id(9), id(2), id(4)]));
    assert_eq!(ids(&q.all().unwrap()), [2, 4, 9]);
    assert!(
        q.explain().contains("range id >= 2 AND id <= 9"),
        "{}",
        q.explain()
    );
    let _ = before;
    assert_eq!(
        ids(&tx
            .query::<Post>()
            .filter(Post::id().eq(id(6)))
            .all()
            .unwrap()),
        [6]
    );
    // With another filter no index serves, strict mode still asks.
    let err = tx
        .query::<Post>()
        .filter(Post::id().gt(id(2)).and(Post::title().eq("p4")))
        .all()
        .unwrap_err();
    assert!(matches!(err, Error::IndexRequired { .. }), "{err:?}");
    // Combined with an index, the index serves and the id part is checked per row.
    let q = tx
        .query::<Post>()
        .filter(Post::author().eq(1u32).and(Post::id().lt(id(6))));
    assert!(
        q.explain().contains("access: index by_author"),
        "{}",
        q.explain()
    );
    assert_eq!(ids(&q.all().unwrap()), [1, 3, 5]);
}

#[apply(engines)]
fn newest_first_is_the_row_table_read_backwards(engine: Engine) {
    let (db, _) = db(engine);
    let tx = db.read().unwrap();
    for q in [
        tx.query::<Post>().order_by(Post::created_at().desc()),
        tx.query::<Post>().order_by(Post::id().desc()),
    ] {
        assert!(
            q.explain().contains("order: by id (descending)"),
            "{}",
            q.explain()
        );
        assert_eq!(ids(&q.all().unwrap()), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    }
    let q = tx.query::<Post>().order_by(Post::created_at().asc());
    assert_eq!(
        q.explain(),
        "query posts\naccess: table scan in id order\norder: by id\n"
    );
    // A page of "newest first" reads the page (and one row more), at any depth.
    let q = tx.query::<Post>().order_by(Post::created_at().desc());
    let mut cursor: Option<Cursor> = None;
    let mut seen = Vec::new();
    loop {
        let before = tx.stats();
        let page = q.paginate(cursor.as_ref(), 3).unwrap();
        assert!(tx.stats().row_reads - before.row_reads <= 4);
        seen.extend(ids(&page.items));
        if page.is_done {
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(seen, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    // Pinned by an index, its entries are in id order: it serves created_at too.
    let q = tx
        .query::<Post>()
        .filter(Post::author().eq(2u32))
        .order_by(Post::created_at().desc());
    assert!(
        q.explain()
            .contains("order: served by the index (descending)"),
        "{}",
        q.explain()
    );
    assert_eq!(ids(&q.all().unwrap()), [10, 8, 6, 4, 2]);
    let q = tx
        .query::<Post>()
        .filter(Post::author().in_([1u32, 2]))
        .order_by(Post::id().desc());
    assert!(q.explain().contains("probes merged"), "{}", q.explain());
    assert_eq!(ids(&q.all().unwrap()), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
}

#[apply(engines)]
fn created_at_filters_are_checked_per_row(engine: Engine) {
    let (db, _) = db(engine);
    let tx = db.read().unwrap();
    let err = tx
        .query::<Post>()
        .filter(Post::created_at().gte(T0 + 30))
        .all()
        .unwrap_err();
    match err {
        Error::IndexRequired { filter, .. } => {
            assert_eq!(filter, format!("the filter created_at >= {}", T0 + 30));
        }
        other => panic!("expected IndexRequired, got {other:?}"),
    }
    let q = tx
        .query::<Post>()
        .filter(Post::created_at().gte(T0 + 30))
        .order_by(Post::created_at().desc())
        .allow_full_scan();
    assert_eq!(ids(&q.all().unwrap()), [10, 9, 8, 7, 6, 5, 4]);
    // In-memory sorts and relation orders use the same columns.
    let q = tx
        .query::<Post>()
        .order_by(Post::title().desc())
        .order_by(Post::created_at().desc())
        .allow_full_scan();
    assert_eq!(ids(&q.all().unwrap()), [9, 8, 7, 6, 5, 4, 3, 2, 10, 1]);
    // Aggregates over system columns.
    assert_eq!(
        tx.query::<Post>().max(Post::created_at()).unwrap(),
        Some(T0 + 40)
    );
}
