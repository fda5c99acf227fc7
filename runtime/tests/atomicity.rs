//! One call, all or nothing: a write refused part-way (a bulk update or delete whose later row
//! fails, an undelete whose restore clashes, a cascade whose hook fails) leaves the
//! transaction exactly as it was before the call, so a caller that handles the error and
//! commits commits none of it. Also: a scheduled purge split into batches never leaves a
//! `set_null` reference to a row an earlier batch removed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

mod common;

use common::{Engine, OpenOn, engines};
use redorm::prelude::*;
use redorm::{Error, ManualClock, MemoryEngine};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "accounts", delete = soft)]
struct Account {
    #[unique]
    handle: String,
    credits: i64,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "grants")]
struct Grant {
    #[belongs_to(account, Account)]
    account_id: Id<Account>,
    note: String,
}

fn builder() -> redorm::DbBuilder {
    Db::builder().table::<Account>().table::<Grant>()
}

/// Every row of both tables, soft-deleted ones included, with their stamps.
fn state(db: &Db) -> Vec<String> {
    let tx = db.read().unwrap();
    let mut out: Vec<String> = tx
        .query::<Account>()
        .include_deleted()
        .allow_full_scan()
        .all()
        .unwrap()
        .iter()
        .map(|d| format!("{} {:?} deleted={:?}", d.id, d.value(), d.deleted_at()))
        .collect();
    out.extend(
        tx.query::<Grant>()
            .allow_full_scan()
            .all()
            .unwrap()
            .iter()
            .map(|d| format!("{} {:?}", d.id, d.value())),
    );
    out
}

fn seed(db: &Db) -> Vec<Id<Account>> {
    db.write(|tx| {
        ["ann", "bob", "cy"]
            .into_iter()
            .map(|h| {
                tx.insert(Account {
                    handle: h.into(),
                    credits: 1,
                })
            })
            .collect()
    })
    .unwrap()
}

#[apply(engines)]
fn a_bulk_update_refused_at_a_later_row_changes_no_row(engine: Engine) {
    let db = builder().open_on(engine);
    let ids = seed(&db);
    let before = state(&db);
    let mut tx = db.begin_write().unwrap();
    // Every row gets the same handle: the first rewrite passes, the second clashes with it.
    let err = tx
        .update::<Account>()
        .all()
        .set(|a| {
            a.handle = "same".into();
            a.credits += 1;
        })
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unique { table: "accounts", index: "by_handle", existing, .. } if *existing == ids[0].get()),
        "{err:?}"
    );
    // The transaction goes on and commits: nothing of the refused call is in it.
    tx.patch(ids[2], |a| a.credits = 7).unwrap();
    tx.commit().unwrap();
    let mut expected = before;
    expected[2] = expected[2].replace("credits: 1", "credits: 7");
    assert_eq!(state(&db), expected);
    assert!(db.check_integrity().unwrap().is_ok());
    let tx = db.read().unwrap();
    assert_eq!(tx.get_by(Account::by_handle(), "same").unwrap(), None);
    assert_eq!(
        tx.get_by(Account::by_handle(), "ann")
            .unwrap()
            .map(|d| d.id),
        Some(ids[0])
    );
}

#[apply(engines)]
fn a_hard_bulk_delete_refused_by_restrict_restores_the_rows_it_deleted(engine: Engine) {
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "owners")]
    struct Owner {
        #[unique]
        name: String,
    }
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "pets")]
    struct Pet {
        #[belongs_to(owner, Owner)]
        owner_id: Id<Owner>,
    }
    let db = Db::builder()
        .table::<Owner>()
        .table::<Pet>()
        .open_on(engine);
    let (a, b, c) = db
        .write(|tx| {
            let a = tx.insert(Owner { name: "a".into() })?;
            let b = tx.insert(Owner { name: "b".into() })?;
            let c = tx.insert(Owner { name: "c".into() })?;
            tx.insert(Pet { owner_id: b })?;
            Ok((a, b, c))
        })
        .unwrap();
    let mut tx = db.begin_write().unwrap();
    let err = tx.delete_many::<Owner>().all().execute().unwrap_err();
    assert!(
        matches!(&err, Error::Restrict { table: "owners", id, child_table: "pets", count: 1, .. } if *id == b.get()),
        "{err:?}"
    );
    // `a` was deleted before `b` was refused; the call is undone whole.
    assert!(
        tx.get(a).unwrap().is_some(),
        "a is back inside the transaction"
    );
    tx.insert(Owner { name: "d".into() }).unwrap();
    tx.commit().unwrap();
    let tx = db.read().unwrap();
    let names: Vec<String> = tx
        .query::<Owner>()
        .allow_full_scan()
        .all()
        .unwrap()
        .iter()
        .map(|o| o.name.clone())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    assert_eq!(
        tx.get_by(Owner::by_name(), "a").unwrap().map(|o| o.id),
        Some(a)
    );
    assert!(tx.get(c).unwrap().is_some());
    drop(tx);
    assert!(db.check_integrity().unwrap().is_ok());
}

#[apply(engines)]
fn an_undelete_refused_by_a_released_value_restores_nothing_and_keeps_the_job(engine: Engine) {
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "members", delete = scheduled(delay = "1d"))]
    struct Member {
        #[unique]
        email: String,
    }
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "badges")]
    struct Badge {
        #[unique]
        #[belongs_to(member, Member, on_delete = cascade, on_soft_delete = cascade)]
        member_id: Id<Member>,
        #[unique]
        code: String,
    }
    let clock = ManualClock::new(0);
    let db = Db::builder()
        .table::<Member>()
        .table::<Badge>()
        .release_on_soft_delete(Badge::by_code())
        .clock(clock.clone())
        .open_on(engine);
    let (old, badge) = db
        .write(|tx| {
            let old = tx.insert(Member {
                email: "old@x".into(),
            })?;
            let badge = tx.insert(Badge {
                member_id: old,
                code: "GOLD".into(),
            })?;
            Ok((old, badge))
        })
        .unwrap();
    db.write(|tx| tx.delete(old)).unwrap();
    // Another member takes the released badge code.
    db.write(|tx| {
        let new = tx.insert(Member {
            email: "new@x".into(),
        })?;
        tx.insert(Badge {
            member_id: new,
            code: "GOLD".into(),
        })
    })
    .unwrap();
    let jobs = db.pending_jobs().unwrap();
    assert_eq!(jobs.len(), 1);

    let mut tx = db.begin_write().unwrap();
    // The member row restores first; its badge then clashes: neither may stay restored.
    let err = tx.undelete(old).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Unique {
                table: "badges",
                index: "by_code",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(tx.get(old).unwrap().is_none(), "the member stays deleted");
    assert!(tx.get(badge).unwrap().is_none(), "the badge stays deleted");
    tx.commit().unwrap();
    assert_eq!(
        db.pending_jobs().unwrap(),
        jobs,
        "the job was not cancelled"
    );
    clock.advance(Duration::from_secs(24 * 3600));
    let report = db.run_due_jobs().unwrap();
    assert_eq!((report.completed, report.rows_deleted), (1, 2));
    assert!(db.check_integrity().unwrap().is_ok());
}

#[apply(engines)]
fn a_hook_refusing_a_cascaded_row_undoes_the_whole_delete(engine: Engine) {
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "folders")]
    struct Folder {
        name: String,
    }
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "files")]
    struct File {
        #[belongs_to(folder, Folder, on_delete = cascade)]
        folder_id: Id<Folder>,
        locked: bool,
    }
    let db = Db::builder()
        .table::<Folder>()
        .table::<File>()
        .before_delete::<File>(|_, doc, _| {
            if doc.locked {
                Err(Error::hook("file is locked"))
            } else {
                Ok(())
            }
        })
        .open_on(engine);
    let folder = db
        .write(|tx| {
            let f = tx.insert(Folder { name: "f".into() })?;
            for locked in [false, false, true] {
                tx.insert(File {
                    folder_id: f,
                    locked,
                })?;
            }
            Ok(f)
        })
        .unwrap();
    let mut tx = db.begin_write().unwrap();
    let err = tx.delete(folder).unwrap_err();
    assert_eq!(err.to_string(), Error::hook("file is locked").to_string());
    // Two files were removed before the third refused; the call is undone whole.
    assert_eq!(tx.query::<File>().allow_full_scan().count().unwrap(), 3);
    tx.commit().unwrap();
    let tx = db.read().unwrap();
    assert!(tx.get(folder).unwrap().is_some());
    assert_eq!(
        tx.query::<File>()
            .filter(File::folder_id().eq(folder))
            .count()
            .unwrap(),
        3
    );
    drop(tx);
    assert!(db.check_integrity().unwrap().is_ok());
}

#[apply(engines)]
fn a_hook_refusing_an_insert_undoes_what_other_hooks_wrote_for_it(engine: Engine) {
    let db = builder()
        .after_insert::<Account>(|tx, doc| {
            tx.insert(Grant {
                account_id: doc.id,
                note: "welcome".into(),
            })?;
            if doc.handle == "spam" {
                return Err(Error::hook("no spam"));
            }
            Ok(())
        })
        .open_on(engine);
    let mut tx = db.begin_write().unwrap();
    tx.insert(Account {
        handle: "ann".into(),
        credits: 0,
    })
    .unwrap();
    assert!(
        tx.insert(Account {
            handle: "spam".into(),
            credits: 0
        })
        .is_err()
    );
    let bob = tx
        .insert(Account {
            handle: "bob".into(),
            credits: 0,
        })
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(bob.get(), 2, "the refused insert's id is given out again");
    let tx = db.read().unwrap();
    let grants: Vec<u64> = tx
        .query::<Grant>()
        .allow_full_scan()
        .all()
        .unwrap()
        .iter()
        .map(|g| g.account_id.get())
        .collect();
    assert_eq!(grants, [1, 2], "no grant for the refused account");
    assert_eq!(tx.get_by(Account::by_handle(), "spam").unwrap(), None);
    drop(tx);
    assert!(db.check_integrity().unwrap().is_ok());
}

#[apply(engines)]
fn only_deleted_counts_nothing_on_a_table_that_cannot_hold_deleted_rows(engine: Engine) {
    let db = builder().open_on(engine);
    let ids = seed(&db);
    db.write(|tx| {
        tx.insert(Grant {
            account_id: ids[0],
            note: "x".into(),
        })
    })
    .unwrap();
    let tx = db.read().unwrap();
    let q = || tx.query::<Grant>().allow_full_scan();
    assert_eq!(q().count().unwrap(), 1);
    assert_eq!(q().only_deleted().count().unwrap(), 0);
    assert_eq!(q().only_deleted().all().unwrap().len(), 0);
    assert_eq!(q().include_deleted().count().unwrap(), 1);
    let by_fk = tx
        .query::<Grant>()
        .filter(Grant::account_id().eq(ids[0]))
        .only_deleted();
    assert_eq!(by_fk.count().unwrap(), 0);
}

mod purge {
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "orgs", delete = scheduled(delay = "1h"))]
    pub struct Org {
        pub name: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "people")]
    #[has_many(notes, Note, by = author_id)]
    pub struct Person {
        #[belongs_to(org, Org, on_delete = cascade, on_soft_delete = cascade)]
        pub org_id: Id<Org>,
        #[belongs_to(manager, Person, on_delete = set_null)]
        pub manager_id: Option<Id<Person>>,
        pub name: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "notes")]
    pub struct Note {
        #[belongs_to(author, Person, on_delete = cascade)]
        pub author_id: Id<Person>,
        #[belongs_to(editor, Person, on_delete = set_null)]
        pub editor_id: Option<Id<Person>>,
    }

    pub fn builder() -> redorm::DbBuilder {
        Db::builder()
            .table::<Org>()
            .table::<Person>()
            .table::<Note>()
    }
}

/// The reproduction of the defect: a, b in one org; a note by b edited by a; a manages b and b
/// manages a (a cycle no delete order can break). Purged one row per batch, with a stop after
/// every batch, no batch leaves a reference to a removed row.
#[test]
fn a_purge_in_batches_never_leaves_a_set_null_reference_to_a_removed_row() {
    use purge::{Note, Org, Person};
    for batch in 1..=4 {
        let engine = MemoryEngine::new();
        let clock = ManualClock::new(0);
        let db = purge::builder()
            .clock(clock.clone())
            .job_batch_rows(batch)
            .open_memory_engine(&engine)
            .unwrap();
        let org = db
            .write(|tx| {
                let org = tx.insert(Org { name: "o".into() })?;
                let a = tx.insert(Person {
                    org_id: org,
                    manager_id: None,
                    name: "a".into(),
                })?;
                let b = tx.insert(Person {
                    org_id: org,
                    manager_id: Some(a),
                    name: "b".into(),
                })?;
                tx.patch(a, |p| p.manager_id = Some(b))?;
                tx.insert(Note {
                    author_id: b,
                    editor_id: Some(a),
                })?;
                Ok(org)
            })
            .unwrap();
        db.write(|tx| tx.delete(org)).unwrap();
        clock.advance(Duration::from_secs(3600));
        // Stop after every single batch: each run commits one batch, then a fault stops it.
        let mut runs = 0;
        loop {
            runs += 1;
            engine.fail_nth(redorm::WriteStep::Commit, 2);
            let report = db.run_due_jobs().unwrap();
            engine.disarm();
            let check = db.check_integrity().unwrap();
            assert!(check.is_ok(), "batch size {batch}, run {runs}: {check}");
            if report.completed == 1 {
                break;
            }
            assert!(runs < 20, "no progress");
        }
        assert!(batch > 3 || runs > 1, "batch size {batch}: several batches");
        let tx = db.read().unwrap();
        assert_eq!(tx.query::<Person>().include_deleted().count().unwrap(), 0);
        assert_eq!(tx.query::<Note>().include_deleted().count().unwrap(), 0);
        assert!(tx.get_including_deleted(org).unwrap().is_none());
    }
}

/// A chain of `with` built in a loop far deeper than `MAX_DEPTH` neither grows without bound
/// nor overflows the stack when it is built, loaded or dropped.
#[test]
fn a_with_chain_deeper_than_the_limit_is_refused_without_growing() {
    use purge::{Note, Org, Person};
    let db = purge::builder().in_memory().unwrap();
    db.write(|tx| {
        let org = tx.insert(Org { name: "o".into() })?;
        let a = tx.insert(Person {
            org_id: org,
            manager_id: None,
            name: "a".into(),
        })?;
        tx.insert(Note {
            author_id: a,
            editor_id: None,
        })
    })
    .unwrap();
    let tx = db.read().unwrap();
    // A self-relation 200 000 levels deep, built and dropped.
    let mut rel = Person::manager();
    for _ in 0..200_000 {
        rel = Person::manager().with(rel);
    }
    let err = tx
        .query::<Person>()
        .allow_full_scan()
        .with(rel)
        .all()
        .unwrap_err();
    assert!(
        matches!(&err, Error::DepthExceeded { relation, max: 10 } if relation == "people.manager"),
        "{err:?}"
    );
    // Alternating levels, 50 000 deep.
    let mut up = Note::author();
    for _ in 0..25_000 {
        up = Note::author().with(Person::notes().with(up));
    }
    let err = tx
        .query::<Person>()
        .allow_full_scan()
        .with(Person::notes().with(up))
        .all()
        .unwrap_err();
    assert!(
        matches!(&err, Error::DepthExceeded { max: 10, .. }),
        "{err:?}"
    );
    // Exactly MAX_DEPTH levels still load.
    let mut rel = Person::manager();
    for _ in 1..redorm::MAX_DEPTH {
        rel = Person::manager().with(rel);
    }
    assert_eq!(
        tx.query::<Person>()
            .allow_full_scan()
            .with(rel)
            .all()
            .unwrap()
            .len(),
        1
    );
}
