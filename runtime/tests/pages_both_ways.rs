//! Pages both ways: `prev_cursor` gives the rows before a page, in the query's order, on every
//! access path (table scan, index forwards and backwards, probes merged, in-memory sort).
//! Property: walking forward to the last page and then backward from it returns every row
//! once, the same rows as forward.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use proptest::prelude::*;
use redorm::prelude::*;
use redorm::{Cursor, Error, Page, Query, ReadTx};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "items", delete = soft, index(by_group_score = [group, score]))]
struct Item {
    group: u8,
    #[index]
    score: i32,
    plain: i32,
}

fn db_on(engine: Engine, rows: &[(u8, i32, bool)]) -> Db {
    let db = Db::builder().table::<Item>().open_on(engine);
    db.write(|tx| {
        for &(group, score, deleted) in rows {
            let id = tx.insert(Item {
                group,
                score,
                plain: score,
            })?;
            if deleted {
                tx.delete(id)?;
            }
        }
        Ok(())
    })
    .unwrap();
    db
}

fn ids(page: &Page<Item>) -> Vec<u64> {
    page.items.iter().map(|d| d.id.get()).collect()
}

/// The queries of every access path, with the `explain` line that proves the path.
fn queries(tx: &ReadTx) -> Vec<(Query<'_, Item>, &'static str)> {
    vec![
        (tx.query::<Item>(), "access: table scan in id order"),
        (
            tx.query::<Item>().order_by(Item::score().asc()),
            "order: index order (ascending)",
        ),
        (
            tx.query::<Item>().order_by(Item::score().desc()),
            "order: served by the index (descending)",
        ),
        (
            tx.query::<Item>()
                .filter(Item::group().in_([0u8, 2]))
                .order_by(Item::score().desc()),
            "probes merged",
        ),
        (
            tx.query::<Item>()
                .order_by(Item::plain().desc())
                .allow_full_scan(),
            "order: sorted in memory by plain desc",
        ),
        (
            tx.query::<Item>()
                .filter(Item::score().gte(0i32))
                .include_deleted(),
            "range score >= 0",
        ),
    ]
}

/// Forward to the end; then backward from the last page to the start.
fn both_ways(q: &Query<'_, Item>, n: usize) -> (Vec<u64>, Vec<u64>) {
    let mut forward = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let last = loop {
        let page = q.paginate(cursor.as_ref(), n).unwrap();
        assert!(page.items.len() <= n);
        assert_eq!(
            page.prev_cursor.is_some(),
            cursor.is_some() && !page.items.is_empty()
        );
        forward.extend(ids(&page));
        if page.is_done {
            break page;
        }
        cursor = page.next_cursor;
    };
    // Backward from the last page: each page is in the query's order.
    let mut backward: Vec<Vec<u64>> = vec![ids(&last)];
    let mut cursor = last.prev_cursor;
    while let Some(c) = cursor {
        let page = q.paginate(Some(&c), n).unwrap();
        assert!(page.items.len() <= n);
        // Forward again from a backward page continues right after it.
        if let Some(next) = &page.next_cursor {
            let again = q.paginate(Some(next), n).unwrap();
            let resumed = backward.last().unwrap();
            assert_eq!(
                ids(&again)[..resumed.len().min(again.items.len())],
                resumed[..resumed.len().min(again.items.len())]
            );
        }
        backward.push(ids(&page));
        cursor = page.prev_cursor;
    }
    backward.reverse();
    (forward, backward.concat())
}

#[apply(engines)]
fn a_page_back_is_the_rows_before_in_the_query_order(engine: Engine) {
    // Scores [5, 3, 5, 1, 3, 9] for ids 1..=6; id 4 soft-deleted.
    let db = db_on(
        engine,
        &[
            (0, 5, false),
            (1, 3, false),
            (2, 5, false),
            (0, 1, true),
            (2, 3, false),
            (0, 9, false),
        ],
    );
    let tx = db.read().unwrap();
    let q = tx.query::<Item>().order_by(Item::score().desc());
    let p1 = q.paginate(None, 2).unwrap();
    assert_eq!(ids(&p1), [6, 3]);
    assert!(p1.prev_cursor.is_none());
    let p2 = q.paginate(p1.next_cursor.as_ref(), 2).unwrap();
    assert_eq!(ids(&p2), [1, 5]);
    let p3 = q.paginate(p2.next_cursor.as_ref(), 2).unwrap();
    assert_eq!(ids(&p3), [2]);
    assert!(p3.is_done);
    let b1 = q.paginate(p3.prev_cursor.as_ref(), 2).unwrap();
    assert_eq!(
        ids(&b1),
        [1, 5],
        "the two rows before id 2, in the query's order"
    );
    let b2 = q.paginate(b1.prev_cursor.as_ref(), 2).unwrap();
    assert_eq!(ids(&b2), [6, 3]);
    assert!(b2.prev_cursor.is_none(), "it reached the start");
    assert!(!b2.is_done);
    assert_eq!(
        ids(&q.paginate(b2.next_cursor.as_ref(), 2).unwrap()),
        [1, 5]
    );
    // A backward cursor is bound to its query like a forward one.
    let other = tx.query::<Item>().order_by(Item::score().asc());
    assert!(matches!(
        other.paginate(b1.prev_cursor.as_ref(), 2),
        Err(Error::InvalidCursor { .. })
    ));
    // Every path explains itself and walks both ways.
    for (q, line) in queries(&tx) {
        assert!(q.explain().contains(line), "{}", q.explain());
        let (f, b) = both_ways(&q, 2);
        assert_eq!(f, b, "{}", q.explain());
        assert_eq!(
            f,
            q.all()
                .unwrap()
                .iter()
                .map(|d| d.id.get())
                .collect::<Vec<_>>()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn forward_then_backward_returns_the_same_rows(
        rows in prop::collection::vec((0u8..3, -3i32..4, prop::bool::weighted(0.2)), 0..30),
        n in 1usize..5,
    ) {
        let db = db_on(Engine::Memory, &rows);
        let tx = db.read().unwrap();
        for (q, _) in queries(&tx) {
            let want: Vec<u64> = q.all().unwrap().iter().map(|d| d.id.get()).collect();
            let (forward, backward) = both_ways(&q, n);
            prop_assert_eq!(&forward, &want);
            prop_assert_eq!(&backward, &want);
        }
    }
}
