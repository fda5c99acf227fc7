//! Insert, get, get_by, patch, replace and delete through the public API, on each storage
//! engine (and across a reopen); every error path checked for its exact variant and for
//! leaving nothing behind.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, Store, User, engines, user, users_db};
use redorm::prelude::*;
use redorm::{Error, ManualClock};
use rstest_reuse::apply;

#[apply(engines)]
fn insert_then_get_returns_the_row_with_system_fields(engine: Engine) {
    let clock = ManualClock::new(1_700_000_000_000);
    let db = Db::builder()
        .table::<User>()
        .clock(clock.clone())
        .open_on(engine);
    let id = db
        .write(|tx| tx.insert(user("ada@x.org", "Ada", 36)))
        .unwrap();
    let doc = db.read().unwrap().get(id).unwrap().unwrap();
    assert_eq!(doc.id, id);
    assert_eq!(doc.created_at, 1_700_000_000_000);
    assert_eq!(doc.deleted_at(), None);
    assert_eq!(doc.email, "ada@x.org");
    assert_eq!(*doc.value(), user("ada@x.org", "Ada", 36));
}

#[apply(engines)]
fn ids_count_up_per_table_and_are_never_reused(engine: Engine) {
    let db = users_db(engine);
    let a = db.write(|tx| tx.insert(user("a@x", "A", 1))).unwrap();
    let b = db.write(|tx| tx.insert(user("b@x", "B", 1))).unwrap();
    assert_eq!((a.get(), b.get()), (1, 2));
    db.write(|tx| tx.delete(b)).unwrap();
    let c = db.write(|tx| tx.insert(user("c@x", "C", 1))).unwrap();
    assert_eq!(c.get(), 3, "the id of a deleted row is not given again");
    // A rolled-back insert does not burn the id in a way that matters: it was never seen.
    let err = db.write(|tx| {
        tx.insert(user("d@x", "D", 1))?;
        Err::<(), _>(Error::NotFound {
            table: "users",
            id: 0,
        })
    });
    assert!(err.is_err());
    let e = db.write(|tx| tx.insert(user("e@x", "E", 1))).unwrap();
    assert_eq!(e.get(), 4);
}

#[apply(engines)]
fn get_of_a_missing_id_is_none(engine: Engine) {
    let db = users_db(engine);
    assert!(
        db.read()
            .unwrap()
            .get(Id::<User>::from_raw(99))
            .unwrap()
            .is_none()
    );
}

#[apply(engines)]
fn get_by_unique_index_finds_the_row(engine: Engine) {
    let db = users_db(engine);
    let id = db
        .write(|tx| tx.insert(user("ada@x.org", "Ada", 36)))
        .unwrap();
    let tx = db.read().unwrap();
    let found = tx.get_by(User::by_email(), "ada@x.org").unwrap().unwrap();
    assert_eq!(found.id, id);
    assert!(
        tx.get_by(User::by_email(), "nobody@x.org")
            .unwrap()
            .is_none()
    );
    // Prefix of an existing value is not a match.
    assert!(tx.get_by(User::by_email(), "ada@x.or").unwrap().is_none());
}

#[apply(engines)]
fn get_by_compound_unique_index_takes_a_tuple(engine: Engine) {
    let db = users_db(engine);
    let mut u = user("a@x", "Ann", 30);
    u.team = Some("red".into());
    let id = db.write(|tx| tx.insert(u)).unwrap();
    let tx = db.read().unwrap();
    let found = tx
        .get_by(User::by_name_team(), ("Ann", Some("red".to_string())))
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert!(
        tx.get_by(User::by_name_team(), ("Ann", None::<String>))
            .unwrap()
            .is_none()
    );
}

#[apply(engines)]
fn unique_violation_on_insert_is_refused_and_keeps_nothing(engine: Engine) {
    let db = users_db(engine);
    let first = db
        .write(|tx| tx.insert(user("ada@x.org", "Ada", 36)))
        .unwrap();
    let err = db
        .write(|tx| tx.insert(user("ada@x.org", "Other", 20)))
        .unwrap_err();
    match &err {
        Error::Unique {
            table,
            index,
            value,
            existing,
        } => {
            assert_eq!(*table, "users");
            assert_eq!(*index, "by_email");
            assert_eq!(value, "\"ada@x.org\"");
            assert_eq!(*existing, first.get());
        }
        other => panic!("expected Error::Unique, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "unique index `users.by_email` already holds \"ada@x.org\" (row users:1); use a different value, or update the existing row instead"
    );
    // Nothing of the failed write is left: no row 2, no index entry for it.
    let tx = db.read().unwrap();
    assert!(tx.get(Id::<User>::from_raw(2)).unwrap().is_none());
    assert_eq!(
        tx.get_by(User::by_email(), "ada@x.org")
            .unwrap()
            .unwrap()
            .id,
        first
    );
}

#[apply(engines)]
fn a_failed_write_inside_a_transaction_leaves_the_transaction_usable(engine: Engine) {
    let db = users_db(engine);
    let (a, b) = db
        .write(|tx| {
            let a = tx.insert(user("a@x", "A", 1))?;
            let dup = tx.insert(user("a@x", "A2", 2));
            assert!(matches!(dup, Err(Error::Unique { .. })));
            let b = tx.insert(user("b@x", "B", 2))?;
            Ok((a, b))
        })
        .unwrap();
    let tx = db.read().unwrap();
    assert_eq!(tx.get(a).unwrap().unwrap().name, "A");
    assert_eq!(tx.get(b).unwrap().unwrap().name, "B");
    assert_eq!(b.get(), 2, "the refused insert took no id");
}

#[apply(engines)]
fn compound_unique_ignores_none_values(engine: Engine) {
    let db = users_db(engine);
    // Same name, both teams None: not a conflict (None is not a value for uniqueness).
    db.write(|tx| {
        tx.insert(user("a@x", "Sam", 1))?;
        tx.insert(user("b@x", "Sam", 2))?;
        Ok(())
    })
    .unwrap();
    // Same name and same team: a conflict.
    let err = db
        .write(|tx| {
            let mut u = user("c@x", "Kim", 1);
            u.team = Some("blue".into());
            tx.insert(u.clone())?;
            u.email = "d@x".into();
            tx.insert(u)
        })
        .unwrap_err();
    match err {
        Error::Unique { index, value, .. } => {
            assert_eq!(index, "by_name_team");
            assert_eq!(value, "(\"Kim\", Some(\"blue\"))");
        }
        other => panic!("expected Unique, got {other:?}"),
    }
    // The whole transaction rolled back: Kim is not there.
    assert!(
        db.read()
            .unwrap()
            .get_by(User::by_email(), "c@x")
            .unwrap()
            .is_none()
    );
}

#[apply(engines)]
fn patch_changes_the_row_and_moves_its_index_entries(engine: Engine) {
    let db = users_db(engine);
    let id = db.write(|tx| tx.insert(user("old@x", "Ada", 36))).unwrap();
    db.write(|tx| tx.patch(id, |u| u.email = "new@x".into()))
        .unwrap();
    let tx = db.read().unwrap();
    assert!(tx.get_by(User::by_email(), "old@x").unwrap().is_none());
    let doc = tx.get_by(User::by_email(), "new@x").unwrap().unwrap();
    assert_eq!(doc.id, id);
    assert_eq!(doc.name, "Ada");
}

#[apply(engines)]
fn patch_keeping_the_same_unique_value_is_not_a_conflict_with_itself(engine: Engine) {
    let db = users_db(engine);
    let id = db.write(|tx| tx.insert(user("a@x", "Ada", 36))).unwrap();
    db.write(|tx| tx.patch(id, |u| u.age = 37)).unwrap();
    assert_eq!(db.read().unwrap().get(id).unwrap().unwrap().age, 37);
}

#[apply(engines)]
fn patch_into_a_taken_unique_value_is_refused_and_the_row_is_unchanged(engine: Engine) {
    let db = users_db(engine);
    let (a, b) = db
        .write(|tx| {
            Ok((
                tx.insert(user("a@x", "A", 1))?,
                tx.insert(user("b@x", "B", 2))?,
            ))
        })
        .unwrap();
    let err = db
        .write(|tx| tx.patch(b, |u| u.email = "a@x".into()))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unique { index: "by_email", existing, .. } if *existing == a.get()),
        "{err:?}"
    );
    let tx = db.read().unwrap();
    assert_eq!(tx.get(b).unwrap().unwrap().email, "b@x");
    assert_eq!(tx.get_by(User::by_email(), "b@x").unwrap().unwrap().id, b);
}

#[apply(engines)]
fn replace_swaps_the_whole_value_but_keeps_id_and_created_at(engine: Engine) {
    let clock = ManualClock::new(1_000);
    let db = Db::builder()
        .table::<User>()
        .clock(clock.clone())
        .open_on(engine);
    let id = db.write(|tx| tx.insert(user("a@x", "A", 1))).unwrap();
    clock.advance(std::time::Duration::from_secs(5));
    db.write(|tx| tx.replace(id, user("z@x", "Zed", 99)))
        .unwrap();
    let doc = db.read().unwrap().get(id).unwrap().unwrap();
    assert_eq!(doc.created_at, 1_000);
    assert_eq!(*doc.value(), user("z@x", "Zed", 99));
    assert!(
        db.read()
            .unwrap()
            .get_by(User::by_email(), "a@x")
            .unwrap()
            .is_none()
    );
}

#[apply(engines)]
fn changes_to_missing_rows_are_not_found_errors(engine: Engine) {
    let db = users_db(engine);
    let ghost = Id::<User>::from_raw(42);
    for err in [
        db.write(|tx| tx.patch(ghost, |u| u.age = 1)).unwrap_err(),
        db.write(|tx| tx.replace(ghost, user("a@x", "A", 1)))
            .unwrap_err(),
        db.write(|tx| tx.delete(ghost)).unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                Error::NotFound {
                    table: "users",
                    id: 42
                }
            ),
            "{err:?}"
        );
    }
}

#[apply(engines)]
fn delete_removes_the_row_and_frees_its_unique_values(engine: Engine) {
    let db = users_db(engine);
    let id = db.write(|tx| tx.insert(user("a@x", "A", 1))).unwrap();
    db.write(|tx| tx.delete(id)).unwrap();
    let tx = db.read().unwrap();
    assert!(tx.get(id).unwrap().is_none());
    assert!(tx.get_by(User::by_email(), "a@x").unwrap().is_none());
    drop(tx);
    let again = db.write(|tx| tx.insert(user("a@x", "A again", 1))).unwrap();
    assert_ne!(again, id);
}

#[apply(engines)]
fn a_closure_error_rolls_back_every_write_of_the_transaction(engine: Engine) {
    let db = users_db(engine);
    let keep = db.write(|tx| tx.insert(user("keep@x", "K", 1))).unwrap();
    let result: Result<(), Error> = db.write(|tx| {
        tx.insert(user("new@x", "N", 1))?;
        tx.patch(keep, |u| u.name = "changed".into())?;
        tx.delete(keep)?;
        Err(Error::NotFound {
            table: "users",
            id: 0,
        })
    });
    assert!(result.is_err());
    let tx = db.read().unwrap();
    assert_eq!(tx.get(keep).unwrap().unwrap().name, "K");
    assert!(tx.get_by(User::by_email(), "new@x").unwrap().is_none());
}

#[apply(engines)]
fn begin_write_commits_explicitly_and_rolls_back_when_dropped(engine: Engine) {
    let db = users_db(engine);
    let mut tx = db.begin_write().unwrap();
    let dropped = tx.insert(user("gone@x", "G", 1)).unwrap();
    drop(tx);
    assert!(db.read().unwrap().get(dropped).unwrap().is_none());

    let mut tx = db.begin_write().unwrap();
    let kept = tx.insert(user("kept@x", "K", 1)).unwrap();
    // The writer sees its own writes before committing.
    assert_eq!(tx.get(kept).unwrap().unwrap().name, "K");
    assert_eq!(
        tx.get_by(User::by_email(), "kept@x").unwrap().unwrap().id,
        kept
    );
    tx.commit().unwrap();
    assert!(db.read().unwrap().get(kept).unwrap().is_some());
}

#[apply(engines)]
fn readers_see_a_snapshot(engine: Engine) {
    let db = users_db(engine);
    let id = db.write(|tx| tx.insert(user("a@x", "before", 1))).unwrap();
    let snapshot = db.read().unwrap();
    db.write(|tx| tx.patch(id, |u| u.name = "after".into()))
        .unwrap();
    assert_eq!(snapshot.get(id).unwrap().unwrap().name, "before");
    assert_eq!(db.read().unwrap().get(id).unwrap().unwrap().name, "after");
}

#[apply(engines)]
fn using_an_unregistered_table_is_an_error(engine: Engine) {
    #[derive(Table, Debug)]
    struct Stray {
        x: u8,
    }
    let db = users_db(engine);
    let err = db.write(|tx| tx.insert(Stray { x: 1 })).unwrap_err();
    assert!(
        matches!(err, Error::NotRegistered { table: "stray", .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(".table::<"), "{err}");
}

#[apply(engines)]
fn the_database_persists_across_reopen(engine: Engine) {
    let store = Store::new(engine);
    let id = {
        let db = store.open(Db::builder().table::<User>());
        db.write(|tx| tx.insert(user("a@x", "A", 1))).unwrap()
    };
    let db = store.open(Db::builder().table::<User>());
    let tx = db.read().unwrap();
    assert_eq!(tx.get(id).unwrap().unwrap().name, "A");
    assert_eq!(tx.get_by(User::by_email(), "a@x").unwrap().unwrap().id, id);
    drop(tx);
    // Ids keep counting after a reopen.
    let next = db.write(|tx| tx.insert(user("b@x", "B", 1))).unwrap();
    assert_eq!(next.get(), 2);
}

#[apply(engines)]
fn db_is_clone_send_sync_static_and_shared_across_threads(engine: Engine) {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Db>();
    // A read snapshot can move to another thread (e.g. into spawn_blocking).
    fn assert_send<T: Send>() {}
    assert_send::<redorm::ReadTx>();
    assert_send::<redorm::WriteTx>();
    let db = users_db(engine);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    db.write(|tx| tx.insert(user(&format!("{t}-{i}@x"), "T", i)))
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let tx = db.read().unwrap();
    for t in 0..4 {
        for i in 0..25 {
            assert!(
                tx.get_by(User::by_email(), format!("{t}-{i}@x"))
                    .unwrap()
                    .is_some()
            );
        }
    }
}

#[apply(engines)]
fn id_string_form_round_trips_and_rejects_other_tables(engine: Engine) {
    let db = users_db(engine);
    let id = db.write(|tx| tx.insert(user("a@x", "A", 1))).unwrap();
    let text = id.to_string();
    assert_eq!(text, "users:1");
    assert_eq!(text.parse::<Id<User>>().unwrap(), id);
    for bad in ["posts:1", "users:", "users:-1", "users:0", "1", "users:abc"] {
        let err = bad.parse::<Id<User>>().unwrap_err();
        assert!(
            matches!(err, Error::InvalidId { table: "users", .. }),
            "{bad}: {err:?}"
        );
    }
}
