//! Aggregates: `exists`, `sum`, `avg`, `min`, `max` over a query, and per group with
//! `group_by` — exact results, empty sets, `None` values, overflow, soft-deleted rows, strict
//! mode, and what min/max and groups read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use redorm::prelude::*;
use redorm::{Error, ReadTx};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "sales", delete = soft, index(by_region_day = [region, day]))]
struct Sale {
    region: String,
    day: u32,
    #[index]
    amount: i64,
    discount: Option<f64>,
    units: u64,
    note: String,
}

fn sale(region: &str, day: u32, amount: i64, discount: Option<f64>) -> Sale {
    Sale {
        region: region.into(),
        day,
        amount,
        discount,
        units: 1,
        note: String::new(),
    }
}

fn db(engine: Engine) -> Db {
    let db = Db::builder().table::<Sale>().open_on(engine);
    db.write(|tx| {
        for s in [
            sale("west", 1, 10, Some(0.5)),
            sale("east", 1, -4, None),
            sale("west", 2, 30, None),
            sale("north", 3, 7, Some(0.25)),
            sale("east", 2, 12, Some(1.0)),
        ] {
            tx.insert(s)?;
        }
        // A soft-deleted sale: no aggregate sees it unless the query says so.
        let gone = tx.insert(sale("west", 9, 1000, Some(9.0)))?;
        tx.delete(gone)?;
        Ok(())
    })
    .unwrap();
    db
}

fn q(tx: &ReadTx) -> redorm::Query<'_, Sale> {
    tx.query::<Sale>()
}

#[apply(engines)]
fn sums_means_and_extremes_of_the_matching_rows(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    assert_eq!(q(&tx).count().unwrap(), 5);
    assert_eq!(q(&tx).sum(Sale::amount()).unwrap(), 55i128);
    assert_eq!(q(&tx).avg(Sale::amount()).unwrap(), Some(11.0));
    assert_eq!(q(&tx).min(Sale::amount()).unwrap(), Some(-4));
    assert_eq!(q(&tx).max(Sale::amount()).unwrap(), Some(30));
    assert_eq!(q(&tx).sum(Sale::units()).unwrap(), 5i128);
    // Option columns: None rows are skipped by every aggregate.
    assert_eq!(q(&tx).sum(Sale::discount()).unwrap(), 1.75);
    assert_eq!(q(&tx).avg(Sale::discount()).unwrap(), Some(1.75 / 3.0));
    assert_eq!(q(&tx).min(Sale::discount()).unwrap(), Some(0.25));
    assert_eq!(q(&tx).max(Sale::discount()).unwrap(), Some(1.0));
    // Over a filter, and over what limit keeps.
    let east = || q(&tx).filter(Sale::region().eq("east"));
    assert_eq!(east().sum(Sale::amount()).unwrap(), 8);
    assert_eq!(east().min(Sale::amount()).unwrap(), Some(-4));
    assert_eq!(east().max(Sale::day()).unwrap(), Some(2));
    let top2 = q(&tx).order_by(Sale::amount().desc()).limit(2);
    assert_eq!(top2.sum(Sale::amount()).unwrap(), 42);
    assert_eq!(top2.min(Sale::amount()).unwrap(), Some(12));
    // Soft-deleted rows only when asked.
    assert_eq!(q(&tx).include_deleted().sum(Sale::amount()).unwrap(), 1055);
    assert_eq!(
        q(&tx).include_deleted().max(Sale::amount()).unwrap(),
        Some(1000)
    );
    assert_eq!(
        q(&tx).only_deleted().max(Sale::discount()).unwrap(),
        Some(9.0)
    );
}

#[apply(engines)]
fn empty_sets_give_zero_sums_and_no_extremes(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let none = || q(&tx).filter(Sale::region().eq("south"));
    assert!(!none().exists().unwrap());
    assert_eq!(none().count().unwrap(), 0);
    assert_eq!(none().sum(Sale::amount()).unwrap(), 0);
    assert_eq!(none().sum(Sale::discount()).unwrap(), 0.0);
    assert_eq!(none().avg(Sale::amount()).unwrap(), None);
    assert_eq!(none().min(Sale::amount()).unwrap(), None);
    assert_eq!(none().max(Sale::discount()).unwrap(), None);
    // Rows, but none with a value.
    let no_discount = || q(&tx).filter(Sale::discount().is_null()).allow_full_scan();
    assert!(no_discount().exists().unwrap());
    assert_eq!(no_discount().avg(Sale::discount()).unwrap(), None);
    assert_eq!(no_discount().max(Sale::discount()).unwrap(), None);
    assert!(q(&tx).filter(Sale::amount().gt(25i64)).exists().unwrap());
}

#[apply(engines)]
fn min_and_max_on_an_indexed_column_read_one_entry(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let before = tx.stats();
    assert_eq!(q(&tx).max(Sale::amount()).unwrap(), Some(30));
    let after = tx.stats();
    // The last entry is the soft-deleted 1000: skipping it costs one more entry and row.
    assert_eq!(after.index_scans - before.index_scans, 2);
    assert_eq!(after.row_reads - before.row_reads, 2);
    let before = tx.stats();
    assert_eq!(q(&tx).min(Sale::amount()).unwrap(), Some(-4));
    let after = tx.stats();
    assert_eq!(after.index_scans - before.index_scans, 1);
    assert_eq!(after.row_reads - before.row_reads, 1);
    // Pinned by the leading column, the next one of the same index serves it.
    let before = tx.stats();
    let west = q(&tx).filter(Sale::region().eq("west"));
    assert_eq!(west.max(Sale::day()).unwrap(), Some(2));
    assert_eq!(
        tx.stats().row_reads - before.row_reads,
        2,
        "day 9 is soft-deleted"
    );
}

#[apply(engines)]
fn an_integer_sum_that_does_not_fit_is_an_error(engine: Engine) {
    #[derive(Table, Debug, Clone)]
    #[table(name = "big")]
    struct Big {
        n: u128,
        m: i128,
    }
    let db = Db::builder().table::<Big>().open_on(engine);
    db.write(|tx| {
        tx.insert(Big {
            n: u128::MAX,
            m: i128::MAX,
        })?;
        tx.insert(Big { n: 1, m: 1 })?;
        Ok(())
    })
    .unwrap();
    let tx = db.read().unwrap();
    for err in [
        tx.query::<Big>().sum(Big::n()).unwrap_err(),
        tx.query::<Big>().avg(Big::m()).unwrap_err(),
    ] {
        match &err {
            Error::InvalidQuery { table, reason } => {
                assert_eq!(*table, "big");
                assert!(reason.contains("does not fit"), "{reason}");
            }
            other => panic!("expected InvalidQuery, got {other:?}"),
        }
    }
    assert_eq!(tx.query::<Big>().max(Big::n()).unwrap(), Some(u128::MAX));
    // u64 sums cannot overflow i128 for any number of rows a file can hold.
    assert_eq!(tx.query::<Big>().limit(1).sum(Big::m()).unwrap(), i128::MAX);
}

#[apply(engines)]
fn groups_come_in_index_order_with_their_aggregates(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let by_region = q(&tx).group_by(Sale::region());
    let s = |v: &str| v.to_string();
    assert_eq!(
        by_region.count().unwrap(),
        [(s("east"), 2), (s("north"), 1), (s("west"), 2)]
    );
    assert_eq!(
        by_region.sum(Sale::amount()).unwrap(),
        [(s("east"), 8), (s("north"), 7), (s("west"), 40)]
    );
    assert_eq!(
        by_region.min(Sale::amount()).unwrap(),
        [
            (s("east"), Some(-4)),
            (s("north"), Some(7)),
            (s("west"), Some(10))
        ]
    );
    assert_eq!(
        by_region.max(Sale::discount()).unwrap(),
        [
            (s("east"), Some(1.0)),
            (s("north"), Some(0.25)),
            (s("west"), Some(0.5))
        ]
    );
    assert_eq!(
        by_region.avg(Sale::discount()).unwrap(),
        [
            (s("east"), Some(1.0)),
            (s("north"), Some(0.25)),
            (s("west"), Some(0.5))
        ]
    );
    // With a filter, and with soft-deleted rows.
    let big = q(&tx)
        .filter(Sale::amount().gte(10i64))
        .group_by(Sale::region());
    assert_eq!(big.count().unwrap(), [(s("east"), 1), (s("west"), 2)]);
    let all = q(&tx).include_deleted().group_by(Sale::region());
    assert_eq!(
        all.sum(Sale::amount()).unwrap(),
        [(s("east"), 8), (s("north"), 7), (s("west"), 1040)]
    );
    // An indexed numeric column groups too (its own index).
    assert_eq!(
        q(&tx)
            .filter(Sale::amount().lt(11i64))
            .group_by(Sale::amount())
            .count()
            .unwrap(),
        [(-4, 1), (7, 1), (10, 1)]
    );
}

#[apply(engines)]
fn group_by_a_column_that_leads_no_index_is_refused_in_strict_mode(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    match q(&tx).group_by(Sale::note()).count().unwrap_err() {
        Error::IndexRequired {
            table,
            filter,
            suggestion,
        } => {
            assert_eq!(table, "sales");
            assert_eq!(filter, "the group_by note");
            assert!(
                suggestion.starts_with("Add `index(by_note = [note])`"),
                "{suggestion}"
            );
        }
        other => panic!("expected IndexRequired, got {other:?}"),
    }
    // `day` is the second column of an index: it leads none.
    assert!(matches!(
        q(&tx).group_by(Sale::day()).count(),
        Err(Error::IndexRequired { .. })
    ));
    // Allowed to scan, the groups are gathered in memory, in key order.
    assert_eq!(
        q(&tx)
            .allow_full_scan()
            .group_by(Sale::day())
            .sum(Sale::amount())
            .unwrap(),
        [(1, 6), (2, 42), (3, 7)]
    );
}
