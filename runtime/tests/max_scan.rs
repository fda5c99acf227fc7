//! `max_scan`: a page whose post-filter rejects many rows stops after examining `n` rows and
//! comes back short with a cursor that goes on, so walking every page still returns every
//! matching row exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use proptest::prelude::*;
use redorm::prelude::*;
use redorm::{Cursor, Error};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "events", delete = soft)]
struct Event {
    #[index]
    day: u32,
    alarm: bool,
}

fn db(engine: Engine, alarms: &[bool]) -> Db {
    let db = Db::builder().table::<Event>().open_on(engine);
    db.write(|tx| {
        for (i, &alarm) in alarms.iter().enumerate() {
            tx.insert(Event {
                day: u32::try_from(i / 3).unwrap(),
                alarm,
            })?;
        }
        Ok(())
    })
    .unwrap();
    db
}

/// Every page's ids, and whether each page was full, walking to the end.
fn walk(q: &redorm::Query<'_, Event>, n: usize) -> (Vec<Vec<u64>>, usize) {
    let mut pages = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut calls = 0;
    loop {
        calls += 1;
        let page = q.paginate(cursor.as_ref(), n).unwrap();
        pages.push(page.items.iter().map(|d| d.id.get()).collect());
        if page.is_done {
            assert!(page.next_cursor.is_none());
            return (pages, calls);
        }
        cursor = Some(
            page.next_cursor
                .expect("a page that is not done has a cursor"),
        );
    }
}

#[apply(engines)]
fn short_pages_with_a_cursor_that_goes_on(engine: Engine) {
    // ids 1..=12; alarms at 2, 9, 10, 12.
    let alarms = [
        false, true, false, false, false, false, false, false, true, true, false, true,
    ];
    let db = db(engine, &alarms);
    let tx = db.read().unwrap();
    let q = tx
        .query::<Event>()
        .filter(Event::alarm().eq(true))
        .allow_full_scan()
        .max_scan(4);
    assert!(
        q.explain().contains("max_scan: 4 rows examined per page\n"),
        "{}",
        q.explain()
    );
    let (pages, _) = walk(&q, 2);
    // Rows 1-4 examined: [2]; 5-8: []; 9-10 fill the page; the look-ahead finds 11, 12.
    assert_eq!(pages, [vec![2], vec![], vec![9, 10], vec![12]]);
    // Through an index, in index order, the same way.
    let q = tx
        .query::<Event>()
        .filter(Event::day().gte(1u32).and(Event::alarm().eq(true)))
        .max_scan(3);
    // Rows 4-12 match the range. The third page's bound runs out on the last row, so it
    // cannot know it was the last: one more (empty) page says so.
    assert_eq!(walk(&q, 5).0, [vec![], vec![9], vec![10, 12], vec![]]);
}

#[apply(engines)]
fn max_scan_zero_and_sorted_orders_are_refused(engine: Engine) {
    let db = db(engine, &[true, false]);
    let tx = db.read().unwrap();
    let q = || {
        tx.query::<Event>()
            .filter(Event::alarm().eq(true))
            .allow_full_scan()
    };
    match q().max_scan(0).paginate(None, 5).unwrap_err() {
        Error::InvalidQuery { table, reason } => {
            assert_eq!(table, "events");
            assert_eq!(
                reason,
                "max_scan(0) on the query for alarm = true would examine no row; give \
                 max_scan at least 1, or leave it out"
            );
        }
        other => panic!("expected InvalidQuery, got {other:?}"),
    }
    let sorted = q().order_by(Event::alarm().desc()).max_scan(5);
    assert!(matches!(
        sorted.paginate(None, 5),
        Err(Error::InvalidQuery { reason, .. }) if reason.contains("sorted in memory")
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]
    /// Whatever the bound and page size, walking every page returns exactly the matching
    /// rows, in order, once each; no page holds more than `n` rows or examines more than the
    /// bound.
    #[test]
    fn pages_under_max_scan_return_every_match_once(
        alarms in prop::collection::vec(prop::bool::weighted(0.2), 0..60),
        budget in 1usize..8,
        n in 1usize..6,
        by_index in any::<bool>(),
    ) {
        let db = db(Engine::Memory, &alarms);
        let tx = db.read().unwrap();
        let q = if by_index {
            tx.query::<Event>().filter(Event::day().gte(0u32).and(Event::alarm().eq(true)))
        } else {
            tx.query::<Event>().filter(Event::alarm().eq(true)).allow_full_scan()
        };
        let want: Vec<u64> = q.all().unwrap().iter().map(|d| d.id.get()).collect();
        let q = q.max_scan(budget);
        let (pages, calls) = walk(&q, n);
        prop_assert!(pages.iter().all(|p| p.len() <= n));
        let got: Vec<u64> = pages.concat();
        prop_assert_eq!(got, want);
        // Each call examines at most `budget` rows, and makes progress.
        prop_assert!(calls <= alarms.len() + 1);
    }
}
