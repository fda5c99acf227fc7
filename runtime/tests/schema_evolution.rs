//! Reopening a database with a changed struct: what is accepted, what is refused, and that a
//! refused open leaves the stored data as it was (on the memory engine: exactly, by dump).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::rc::Rc;

mod common;

use common::{Engine, Store, engines};
use redorm::prelude::*;
use redorm::{Error, IndexBuildProgress};
use rstest_reuse::apply;

mod v1 {
    use redorm::prelude::*;

    #[derive(Column, Debug, Clone, Copy, PartialEq)]
    pub enum Kind {
        Book,
        Film,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "items")]
    pub struct Item {
        #[unique]
        pub sku: String,
        pub price: u32,
        pub kind: Kind,
    }
}

mod v2_added_columns {
    use super::v1::Kind;
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "items", index(by_shelf_price = [shelf, price]))]
    pub struct Item {
        #[unique]
        pub sku: String,
        pub price: u32,
        pub kind: Kind,
        #[default("unsorted")]
        pub shelf: String,
        pub note: Option<String>,
    }
}

mod v2_no_default {
    use super::v1::Kind;
    use redorm::prelude::*;

    #[derive(Table, Debug)]
    #[table(name = "items")]
    pub struct Item {
        #[unique]
        pub sku: String,
        pub price: u32,
        pub kind: Kind,
        pub stock: u32,
    }
}

mod v2_type_changed {
    use super::v1::Kind;
    use redorm::prelude::*;

    #[derive(Table, Debug)]
    #[table(name = "items")]
    pub struct Item {
        #[unique]
        pub sku: String,
        pub price: String,
        pub kind: Kind,
    }
}

mod v2_dropped_column {
    use redorm::prelude::*;

    #[derive(Table, Debug)]
    #[table(name = "items")]
    pub struct Item {
        #[unique]
        pub sku: String,
        pub price: u32,
    }
}

mod v2_enum_grew {
    use redorm::prelude::*;

    #[derive(Column, Debug, Clone, Copy, PartialEq)]
    pub enum Kind {
        Book,
        Film,
        Game,
    }

    #[derive(Table, Debug)]
    #[table(name = "items")]
    pub struct Item {
        #[unique]
        pub sku: String,
        pub price: u32,
        pub kind: Kind,
    }
}

mod v2_enum_reordered {
    use redorm::prelude::*;

    #[derive(Column, Debug, Clone, Copy, PartialEq)]
    pub enum Kind {
        Film,
        Book,
    }

    #[derive(Table, Debug)]
    #[table(name = "items")]
    pub struct Item {
        #[unique]
        pub sku: String,
        pub price: u32,
        pub kind: Kind,
    }
}

mod v2_unique_price {
    use super::v1::Kind;
    use redorm::prelude::*;

    #[derive(Table, Debug)]
    #[table(name = "items")]
    pub struct Item {
        #[unique]
        pub sku: String,
        #[unique]
        pub price: u32,
        pub kind: Kind,
    }
}

mod v2_index_dropped {
    use super::v1::Kind;
    use redorm::prelude::*;

    #[derive(Table, Debug)]
    #[table(name = "items")]
    pub struct Item {
        pub sku: String,
        pub price: u32,
        pub kind: Kind,
    }
}

fn seed(store: &Store) -> Vec<Id<v1::Item>> {
    let db = store.open(Db::builder().table::<v1::Item>());
    db.write(|tx| {
        Ok(vec![
            tx.insert(v1::Item {
                sku: "a".into(),
                price: 10,
                kind: v1::Kind::Book,
            })?,
            tx.insert(v1::Item {
                sku: "b".into(),
                price: 10,
                kind: v1::Kind::Film,
            })?,
            tx.insert(v1::Item {
                sku: "c".into(),
                price: 30,
                kind: v1::Kind::Book,
            })?,
        ])
    })
    .unwrap()
}

fn v1_rows(store: &Store) -> Vec<v1::Item> {
    let db = store.open(Db::builder().table::<v1::Item>());
    let tx = db.read().unwrap();
    (1..=3)
        .map(|i| {
            tx.get(Id::<v1::Item>::from_raw(i))
                .unwrap()
                .unwrap()
                .into_inner()
        })
        .collect()
}

fn recast<T>(id: Id<v1::Item>) -> Id<T> {
    Id::from_raw(id.get())
}

#[apply(engines)]
fn added_columns_read_their_default_and_new_indexes_are_built_from_old_rows(engine: Engine) {
    let store = Store::new(engine);
    let ids = seed(&store);

    type Seen = Vec<(String, String, u64, u64)>;
    let seen: Rc<RefCell<Seen>> = Rc::default();
    let log = seen.clone();
    let db = store.open(
        Db::builder()
            .table::<v2_added_columns::Item>()
            .on_index_build(move |p: IndexBuildProgress<'_>| {
                log.borrow_mut()
                    .push((p.table.to_string(), p.index.to_string(), p.done, p.total))
            }),
    );
    assert_eq!(
        *seen.borrow(),
        vec![("items".to_string(), "by_shelf_price".to_string(), 3, 3)]
    );

    let tx = db.read().unwrap();
    let old = tx
        .get(recast::<v2_added_columns::Item>(ids[0]))
        .unwrap()
        .unwrap();
    assert_eq!(old.shelf, "unsorted");
    assert_eq!(old.note, None);
    assert_eq!(old.sku, "a");
    assert_eq!(old.kind, v1::Kind::Book);
    drop(tx);

    // Old rows are rewritten in the new layout when changed; untouched ones keep reading.
    db.write(|tx| {
        tx.patch(recast::<v2_added_columns::Item>(ids[1]), |i| {
            i.shelf = "top".into();
            i.note = Some("signed".into());
        })?;
        tx.insert(v2_added_columns::Item {
            sku: "d".into(),
            price: 5,
            kind: v1::Kind::Film,
            shelf: "top".into(),
            note: None,
        })?;
        Ok(())
    })
    .unwrap();
    drop(db);

    // Reopen with the same new struct: no rebuild, everything reads.
    let rebuilt: Rc<RefCell<u32>> = Rc::default();
    let count = rebuilt.clone();
    let db = store.open(
        Db::builder()
            .table::<v2_added_columns::Item>()
            .on_index_build(move |_| *count.borrow_mut() += 1),
    );
    assert_eq!(
        *rebuilt.borrow(),
        0,
        "an index the file already has is not rebuilt"
    );
    let tx = db.read().unwrap();
    let b = tx
        .get_by(v2_added_columns::Item::by_sku(), "b")
        .unwrap()
        .unwrap();
    assert_eq!(
        (b.shelf.as_str(), b.note.as_deref()),
        ("top", Some("signed"))
    );
    let c = tx
        .get_by(v2_added_columns::Item::by_sku(), "c")
        .unwrap()
        .unwrap();
    assert_eq!(c.shelf, "unsorted");
}

#[apply(engines)]
fn a_new_column_without_default_is_refused_and_the_file_is_unchanged(engine: Engine) {
    let store = Store::new(engine);
    seed(&store);
    let before = v1_rows(&store);
    let dump = store.dump();
    let err = store
        .try_open(Db::builder().table::<v2_no_default::Item>())
        .unwrap_err();
    assert_eq!(store.dump(), dump, "a refused open changes nothing");
    match &err {
        Error::Schema { table, message } => {
            assert_eq!(table, "items");
            assert!(message.contains("column `stock` is new"), "{message}");
            assert!(message.contains("#[default(...)]"), "{message}");
        }
        other => panic!("expected Schema, got {other:?}"),
    }
    assert_eq!(v1_rows(&store), before);
}

#[apply(engines)]
fn a_changed_column_type_is_refused_naming_table_and_column(engine: Engine) {
    let store = Store::new(engine);
    seed(&store);
    let before = v1_rows(&store);
    let dump = store.dump();
    let err = store
        .try_open(Db::builder().table::<v2_type_changed::Item>())
        .unwrap_err();
    assert_eq!(store.dump(), dump, "a refused open changes nothing");
    match &err {
        Error::ColumnTypeChanged {
            table,
            column,
            stored,
            current,
        } => {
            assert_eq!(
                (
                    table.as_str(),
                    column.as_str(),
                    stored.as_str(),
                    current.as_str()
                ),
                ("items", "price", "u32", "String")
            );
        }
        other => panic!("expected ColumnTypeChanged, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with(
            "column `items.price` is stored as `u32` but the struct declares `String`"
        )
    );
    assert_eq!(v1_rows(&store), before);
}

#[apply(engines)]
fn a_dropped_column_is_refused(engine: Engine) {
    let store = Store::new(engine);
    seed(&store);
    let dump = store.dump();
    let err = store
        .try_open(Db::builder().table::<v2_dropped_column::Item>())
        .unwrap_err();
    assert_eq!(store.dump(), dump, "a refused open changes nothing");
    assert!(
        matches!(&err, Error::Schema { message, .. } if message.contains("column `kind` (type `enum(Book,Film)`) is stored in the file")),
        "{err:?}"
    );
    assert_eq!(v1_rows(&store).len(), 3);
}

#[apply(engines)]
fn an_enum_may_gain_variants_at_the_end_but_not_be_reordered(engine: Engine) {
    let store = Store::new(engine);
    let ids = seed(&store);
    {
        let db = store.open(Db::builder().table::<v2_enum_grew::Item>());
        let row = db
            .read()
            .unwrap()
            .get(recast::<v2_enum_grew::Item>(ids[1]))
            .unwrap()
            .unwrap();
        assert_eq!(row.kind, v2_enum_grew::Kind::Film);
    }
    let dump = store.dump();
    let err = store
        .try_open(Db::builder().table::<v2_enum_reordered::Item>())
        .unwrap_err();
    assert_eq!(store.dump(), dump, "a refused open changes nothing");
    assert!(
        matches!(&err, Error::ColumnTypeChanged { column, .. } if column == "kind"),
        "{err:?}"
    );
}

#[apply(engines)]
fn a_new_unique_index_over_duplicate_values_is_refused_and_the_file_is_unchanged(engine: Engine) {
    let store = Store::new(engine);
    seed(&store);
    let dump = store.dump();
    let err = store
        .try_open(Db::builder().table::<v2_unique_price::Item>())
        .unwrap_err();
    assert_eq!(store.dump(), dump, "a refused open changes nothing");
    match &err {
        Error::Unique {
            table,
            index,
            value,
            existing,
        } => {
            assert_eq!(
                (*table, *index, value.as_str()),
                ("items", "by_price", "10")
            );
            assert_eq!(*existing, 1);
        }
        other => panic!("expected Unique, got {other:?}"),
    }
    // Still opens with the old struct, unique sku index intact.
    let db = store.open(Db::builder().table::<v1::Item>());
    assert!(
        db.read()
            .unwrap()
            .get_by(v1::Item::by_sku(), "c")
            .unwrap()
            .is_some()
    );
}

#[apply(engines)]
fn a_dropped_index_is_removed_and_rebuilt_exactly_if_declared_again(engine: Engine) {
    let store = Store::new(engine);
    seed(&store);
    {
        let db = store.open(Db::builder().table::<v2_index_dropped::Item>());
        // Without the unique index a duplicate sku is accepted.
        db.write(|tx| {
            tx.insert(v2_index_dropped::Item {
                sku: "z".into(),
                price: 1,
                kind: v1::Kind::Book,
            })?;
            tx.delete(Id::<v2_index_dropped::Item>::from_raw(3))?;
            Ok(())
        })
        .unwrap();
    }
    let db = store.open(Db::builder().table::<v1::Item>());
    let tx = db.read().unwrap();
    assert_eq!(
        tx.get_by(v1::Item::by_sku(), "z")
            .unwrap()
            .unwrap()
            .id
            .get(),
        4
    );
    assert!(
        tx.get_by(v1::Item::by_sku(), "c").unwrap().is_none(),
        "the rebuilt index has no stale entry"
    );
    assert!(tx.get_by(v1::Item::by_sku(), "a").unwrap().is_some());
}

/// On redb only: it writes bytes into the store behind the library's back, and the memory
/// engine offers no way to do that (its contents can be dumped, not edited).
#[test]
fn corrupt_row_bytes_are_an_error_not_a_panic() {
    let store = Store::new(Engine::Redb);
    let ids = seed(&store);
    // Damage row 2 behind the library's back.
    {
        let raw = redb::Database::open(store.redb_path().unwrap()).unwrap();
        let txn = raw.begin_write().unwrap();
        {
            let def: redb::TableDefinition<'_, u64, &[u8]> = redb::TableDefinition::new("items");
            let mut t = txn.open_table(def).unwrap();
            t.insert(2u64, &[1u8, 1, 2, 0, 0xff, 0xff][..]).unwrap();
            t.insert(3u64, &[9u8][..]).unwrap();
        }
        txn.commit().unwrap();
    }
    let db = store.open(Db::builder().table::<v1::Item>());
    let tx = db.read().unwrap();
    assert!(tx.get(ids[0]).unwrap().is_some());
    let err = tx.get(ids[1]).unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { table, id: Some(2), column: Some("sku"), .. } if table == "items"),
        "{err:?}"
    );
    let err = tx.get(ids[2]).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Corrupt {
                id: Some(3),
                column: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("unknown row format 9"), "{err}");
}
