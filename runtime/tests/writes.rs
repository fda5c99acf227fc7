//! Writes, second step: upsert and its relatives, bulk insert, many-to-many links,
//! savepoints, transactions with the application's own error type, typed cancellation,
//! after-commit hooks and change subscriptions. Every error path is checked for what it
//! leaves behind.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

mod common;

use common::{Engine, OpenOn, engines};
use redorm::prelude::*;
use redorm::{Change, ChangeKind, Error, Event, Upserted};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", delete = soft)]
#[many_to_many(groups, Group, through = Member, from = user_id, to = group_id)]
#[has_many(posts, Post, by = author_id)]
struct User {
    #[unique]
    email: String,
    #[unique]
    handle: String,
    visits: u32,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "groups")]
struct Group {
    #[unique]
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "members", unique(by_pair = [user_id, group_id]))]
struct Member {
    #[belongs_to(user, User, on_delete = cascade)]
    user_id: Id<User>,
    #[belongs_to(group, Group, on_delete = cascade)]
    group_id: Id<Group>,
    #[default("member")]
    role: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", unique(by_slot = [author_id, slot]))]
struct Post {
    #[belongs_to(author, User, on_delete = cascade)]
    author_id: Id<User>,
    slot: u32,
    title: String,
    #[belongs_to(parent, Post, on_delete = set_null)]
    reply_to: Option<Id<Post>>,
}

fn builder() -> redorm::DbBuilder {
    Db::builder()
        .table::<User>()
        .table::<Group>()
        .table::<Member>()
        .table::<Post>()
}

fn user(email: &str, handle: &str) -> User {
    User {
        email: email.into(),
        handle: handle.into(),
        visits: 1,
    }
}

fn post(author_id: Id<User>, slot: u32, title: &str) -> Post {
    Post {
        author_id,
        slot,
        title: title.into(),
        reply_to: None,
    }
}

/// Every row of every table (deleted ones too), as text, to compare whole states.
fn state(db: &Db) -> Vec<String> {
    let tx = db.read().unwrap();
    let mut out = Vec::new();
    for u in tx.query::<User>().include_deleted().all().unwrap() {
        out.push(format!("{} {:?} {:?}", u.id, u.value(), u.deleted_at()));
    }
    for g in tx.query::<Group>().all().unwrap() {
        out.push(format!("{} {:?}", g.id, g.value()));
    }
    for m in tx.query::<Member>().all().unwrap() {
        out.push(format!("{} {:?}", m.id, m.value()));
    }
    for p in tx.query::<Post>().allow_full_scan().all().unwrap() {
        out.push(format!("{} {:?}", p.id, p.value()));
    }
    drop(tx);
    let report = db.check_integrity().unwrap();
    assert!(report.is_ok(), "{report}");
    out
}

// ---- upsert, insert_or_ignore, get_or_insert ---------------------------------------------

#[apply(engines)]
fn upsert_inserts_then_updates_the_holder_of_the_key(engine: Engine) {
    let db = builder().open_on(engine);
    let visit = |email: &str, handle: &str| {
        db.write(|tx| tx.upsert(User::by_email(), user(email, handle), |u| u.visits += 1))
    };
    let (ann, how) = visit("ann@x", "ann").unwrap();
    assert_eq!(how, Upserted::Inserted);
    assert_eq!(visit("ann@x", "ignored").unwrap(), (ann, Upserted::Updated));
    let (bob, how) = visit("bob@x", "bob").unwrap();
    assert_eq!((bob.get(), how), (2, Upserted::Inserted));
    let tx = db.read().unwrap();
    let got = tx.get(ann).unwrap().unwrap();
    assert_eq!(
        got.value(),
        &User {
            email: "ann@x".into(),
            handle: "ann".into(),
            visits: 2
        },
        "the closure changed the existing row; the new value was not written"
    );
}

#[apply(engines)]
fn an_upsert_whose_update_breaks_another_unique_index_changes_nothing(engine: Engine) {
    let db = builder().open_on(engine);
    db.write(|tx| {
        tx.insert(user("ann@x", "ann"))?;
        tx.insert(user("bob@x", "bob"))
    })
    .unwrap();
    let before = state(&db);
    let err = db
        .write(|tx| {
            tx.upsert(User::by_email(), user("ann@x", "x"), |u| {
                u.handle = "bob".into()
            })
        })
        .unwrap_err();
    assert!(err.is_unique(User::by_handle()), "{err:?}");
    assert!(
        matches!(&err, Error::Unique { value, existing: 2, .. } if value == "\"bob\""),
        "{err:?}"
    );
    assert_eq!(state(&db), before);
}

#[apply(engines)]
fn upsert_on_a_compound_unique_index(engine: Engine) {
    let db = builder().open_on(engine);
    let ann = db.write(|tx| tx.insert(user("ann@x", "ann"))).unwrap();
    let put = |slot: u32, title: &str| {
        db.write(|tx| {
            tx.upsert(Post::by_slot(), post(ann, slot, title), |p| {
                p.title = title.into()
            })
        })
        .unwrap()
    };
    let (first, how) = put(1, "a");
    assert_eq!(how, Upserted::Inserted);
    assert_eq!(put(2, "b").1, Upserted::Inserted);
    assert_eq!(put(1, "a2"), (first, Upserted::Updated));
    let tx = db.read().unwrap();
    let titles: Vec<String> = tx
        .query::<Post>()
        .filter(Post::author_id().eq(ann))
        .all()
        .unwrap()
        .iter()
        .map(|p| p.title.clone())
        .collect();
    assert_eq!(titles, ["a2", "b"]);
}

#[apply(engines)]
fn a_soft_deleted_holder_is_a_conflict_unless_the_index_releases_it(engine: Engine) {
    // Kept values (the default): the upsert is refused, naming the soft-deleted row.
    let db = builder().open_on(engine);
    let ann = db.write(|tx| tx.insert(user("ann@x", "ann"))).unwrap();
    db.write(|tx| tx.delete(ann)).unwrap();
    let before = state(&db);
    let err = db
        .write(|tx| tx.upsert(User::by_email(), user("ann@x", "ann2"), |u| u.visits += 1))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unique { table: "users", index: "by_email", existing, value } if *existing == ann.get() && value.contains("soft-deleted")),
        "{err:?}"
    );
    let err = db
        .write(|tx| tx.insert_or_ignore(User::by_email(), user("ann@x", "ann2")))
        .unwrap_err();
    assert!(err.is_unique(User::by_email()));
    assert_eq!(state(&db), before);

    // Released values: a new row is inserted beside the soft-deleted one.
    let db = builder()
        .release_on_soft_delete(User::by_email())
        .release_on_soft_delete(User::by_handle())
        .open_on(engine);
    let ann = db.write(|tx| tx.insert(user("ann@x", "ann"))).unwrap();
    db.write(|tx| tx.delete(ann)).unwrap();
    let (new, how) = db
        .write(|tx| tx.upsert(User::by_email(), user("ann@x", "ann"), |u| u.visits += 1))
        .unwrap();
    assert_eq!((new.get(), how), (2, Upserted::Inserted));
    let tx = db.read().unwrap();
    assert_eq!(tx.get(new).unwrap().unwrap().visits, 1);
    assert!(tx.get(ann).unwrap().is_none());
    assert!(tx.get_including_deleted(ann).unwrap().is_some());
}

#[apply(engines)]
fn insert_or_ignore_and_get_or_insert(engine: Engine) {
    let db = builder().open_on(engine);
    let (ann, how) = db
        .write(|tx| tx.get_or_insert(User::by_email(), user("ann@x", "ann")))
        .unwrap();
    assert_eq!(how, Upserted::Inserted);
    assert_eq!(
        db.write(|tx| tx.get_or_insert(User::by_email(), user("ann@x", "other")))
            .unwrap(),
        (ann, Upserted::Existed)
    );
    assert_eq!(
        db.write(|tx| tx.insert_or_ignore(User::by_email(), user("ann@x", "other")))
            .unwrap(),
        None
    );
    let bob = db
        .write(|tx| tx.insert_or_ignore(User::by_email(), user("bob@x", "bob")))
        .unwrap();
    assert_eq!(bob.map(|b| b.get()), Some(2));
    // Another unique index is still checked.
    let err = db
        .write(|tx| tx.insert_or_ignore(User::by_email(), user("cy@x", "bob")))
        .unwrap_err();
    assert!(err.is_unique(User::by_handle()));
    assert_eq!(db.read().unwrap().query::<User>().count().unwrap(), 2);
    assert_eq!(db.read().unwrap().get(ann).unwrap().unwrap().handle, "ann");
}

// ---- insert_many --------------------------------------------------------------------------

#[apply(engines)]
fn insert_many_gives_ids_in_order_and_matches_a_loop_of_inserts(engine: Engine) {
    let bulk = builder().open_on(engine);
    let looped = builder().open_on(engine);
    let users: Vec<User> = (0..50)
        .map(|i| user(&format!("u{i}@x"), &format!("u{i}")))
        .collect();
    let ids = bulk.write(|tx| tx.insert_many(users.clone())).unwrap();
    assert_eq!(
        ids.iter().map(|i| i.get()).collect::<Vec<_>>(),
        (1..=50).collect::<Vec<_>>()
    );
    looped
        .write(|tx| {
            users
                .iter()
                .try_for_each(|u| tx.insert(u.clone()).map(drop))
        })
        .unwrap();
    // Posts replying to earlier posts of the same batch.
    let posts: Vec<Post> = (0..20u32)
        .map(|i| Post {
            reply_to: (i > 0).then(|| Id::from_raw(u64::from(i))),
            ..post(ids[(i % 5) as usize], i, &format!("p{i}"))
        })
        .collect();
    bulk.write(|tx| tx.insert_many(posts.clone())).unwrap();
    looped
        .write(|tx| {
            posts
                .iter()
                .try_for_each(|p| tx.insert(p.clone()).map(drop))
        })
        .unwrap();
    assert_eq!(state(&bulk), state(&looped));
    assert_eq!(
        bulk.write(|tx| tx.insert_many(Vec::<Post>::new())).unwrap(),
        vec![]
    );
    let tx = bulk.read().unwrap();
    assert_eq!(
        tx.get_by(User::by_email(), "u7@x").unwrap().map(|u| u.id),
        Some(ids[7])
    );
}

#[apply(engines)]
fn a_refused_row_of_insert_many_names_its_position_and_keeps_nothing(engine: Engine) {
    let db = builder().open_on(engine);
    let ann = db.write(|tx| tx.insert(user("ann@x", "ann"))).unwrap();
    let before = state(&db);
    let mut tx = db.begin_write().unwrap();
    // Clash with a stored row.
    let err = tx
        .insert_many([user("a@x", "a"), user("b@x", "b"), user("ann@x", "c")])
        .unwrap_err();
    assert!(
        matches!(&err, Error::BatchRow { table: "users", position: 2, error } if matches!(**error, Error::Unique { index: "by_email", existing: 1, .. })),
        "{err:?}"
    );
    assert!(err.is_unique(User::by_email()));
    // Clash inside the batch.
    let err = tx
        .insert_many([user("a@x", "a"), user("b@x", "a")])
        .unwrap_err();
    assert!(
        matches!(&err, Error::BatchRow { position: 1, error, .. } if matches!(**error, Error::Unique { index: "by_handle", .. })),
        "{err:?}"
    );
    // A missing parent.
    let err = tx
        .insert_many([post(ann, 1, "ok"), post(Id::from_raw(99), 2, "orphan")])
        .unwrap_err();
    assert!(
        matches!(&err, Error::BatchRow { table: "posts", position: 1, error } if matches!(**error, Error::ForeignKey { column: "author_id", target_id: 99, .. })),
        "{err:?}"
    );
    assert_eq!(err.foreign_key(), Some(("posts", "author_id")));
    // The transaction goes on: the next insert gets the next id as if nothing happened.
    let bob = tx.insert(user("bob@x", "bob")).unwrap();
    assert_eq!(bob.get(), 2);
    tx.abort().unwrap();
    assert_eq!(state(&db), before);
}

#[apply(engines)]
fn insert_many_runs_hooks_row_by_row(engine: Engine) {
    let db = builder()
        .before_insert::<Group>(|_, g| {
            if g.name.is_empty() {
                return Err(Error::hook("a group needs a name"));
            }
            g.name = g.name.to_uppercase();
            Ok(())
        })
        .open_on(engine);
    let ids = db
        .write(|tx| tx.insert_many(["a", "b"].map(|n| Group { name: n.into() })))
        .unwrap();
    assert_eq!(db.read().unwrap().get(ids[1]).unwrap().unwrap().name, "B");
    let err = db
        .write(|tx| tx.insert_many(["c", ""].map(|n| Group { name: n.into() })))
        .unwrap_err();
    assert!(
        matches!(&err, Error::BatchRow { position: 1, .. }),
        "{err:?}"
    );
    assert_eq!(db.read().unwrap().query::<Group>().count().unwrap(), 2);
}

// ---- many-to-many links -------------------------------------------------------------------

fn group_names(db: &Db, u: Id<User>) -> Vec<String> {
    let tx = db.read().unwrap();
    let doc = tx.get(u).unwrap().unwrap();
    tx.load(&doc, User::groups())
        .unwrap()
        .iter()
        .map(|g| g.name.clone())
        .collect()
}

#[apply(engines)]
fn link_unlink_and_set_links(engine: Engine) {
    let db = builder().open_on(engine);
    let (ann, [a, b, c]) = db
        .write(|tx| {
            let ann = tx.insert(user("ann@x", "ann"))?;
            let ids = ["a", "b", "c"].map(|n| tx.insert(Group { name: n.into() }));
            let [a, b, c] = ids;
            Ok((ann, [a?, b?, c?]))
        })
        .unwrap();
    assert!(db.write(|tx| tx.link(User::groups(), ann, b)).unwrap());
    assert!(!db.write(|tx| tx.link(User::groups(), ann, b)).unwrap());
    assert!(db.write(|tx| tx.link(User::groups(), ann, a)).unwrap());
    assert_eq!(group_names(&db, ann), ["b", "a"], "join-row order");
    let tx = db.read().unwrap();
    let roles: Vec<String> = tx
        .query::<Member>()
        .all()
        .unwrap()
        .iter()
        .map(|m| m.role.clone())
        .collect();
    assert_eq!(roles, ["member", "member"], "the join table's default");
    drop(tx);

    assert_eq!(db.write(|tx| tx.unlink(User::groups(), ann, b)).unwrap(), 1);
    assert_eq!(db.write(|tx| tx.unlink(User::groups(), ann, b)).unwrap(), 0);
    assert_eq!(group_names(&db, ann), ["a"]);

    assert_eq!(
        db.write(|tx| tx.set_links(User::groups(), ann, [c, b, c]))
            .unwrap(),
        (2, 1)
    );
    assert_eq!(group_names(&db, ann), ["c", "b"], "join-row order");
    assert_eq!(
        db.write(|tx| tx.set_links(User::groups(), ann, [b, c]))
            .unwrap(),
        (0, 0)
    );

    // A row of its own, with a payload.
    let bob = db.write(|tx| tx.insert(user("bob@x", "bob"))).unwrap();
    let row = Member {
        user_id: bob,
        group_id: a,
        role: "admin".into(),
    };
    assert!(
        db.write(|tx| tx.link_with(User::groups(), row.clone()))
            .unwrap()
    );
    assert!(!db.write(|tx| tx.link_with(User::groups(), row)).unwrap());
    let tx = db.read().unwrap();
    let admin = tx.get_by(Member::by_pair(), (bob, a)).unwrap().unwrap();
    assert_eq!(admin.role, "admin");
}

#[apply(engines)]
fn linking_a_missing_or_soft_deleted_row_is_a_foreign_key_error(engine: Engine) {
    let db = builder().open_on(engine);
    let (ann, g) = db
        .write(|tx| {
            Ok((
                tx.insert(user("ann@x", "ann"))?,
                tx.insert(Group { name: "g".into() })?,
            ))
        })
        .unwrap();
    let err = db
        .write(|tx| tx.link(User::groups(), ann, Id::from_raw(9)))
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ForeignKey {
                table: "members",
                column: "group_id",
                target: "groups",
                target_id: 9
            }
        ),
        "{err:?}"
    );
    db.write(|tx| tx.delete(ann)).unwrap();
    let err = db.write(|tx| tx.link(User::groups(), ann, g)).unwrap_err();
    assert_eq!(err.foreign_key(), Some(("members", "user_id")));
    // A set_links that fails half-way keeps nothing.
    let cy = db.write(|tx| tx.insert(user("cy@x", "cy"))).unwrap();
    let before = state(&db);
    let err = db
        .write(|tx| tx.set_links(User::groups(), cy, [g, Id::from_raw(9)]))
        .unwrap_err();
    assert_eq!(err.foreign_key(), Some(("members", "group_id")));
    assert_eq!(state(&db), before);
    // Not a many-to-many relation.
    let err = db
        .write(|tx| tx.link(User::posts(), cy, Id::from_raw(1)))
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery { table: "users", reason } if reason.contains("not many_to_many")),
        "{err:?}"
    );
}

// ---- savepoints, own errors, typed cancellation --------------------------------------------

#[apply(engines)]
fn a_savepoint_undoes_only_its_part_with_its_cascades_and_hooks(engine: Engine) {
    let db = builder()
        .after_insert::<Post>(|tx, p| {
            tx.patch(p.author_id, |u| u.visits += 10)?;
            Ok(())
        })
        .open_on(engine);
    let ann = db.write(|tx| tx.insert(user("ann@x", "ann"))).unwrap();
    db.write(|tx| {
        tx.insert(post(ann, 1, "kept"))?;
        let inner = tx.savepoint(|tx| {
            tx.insert(post(ann, 2, "undone"))?; // its hook bumps visits too
            // Nested: an inner savepoint that succeeds is undone with its parent.
            tx.savepoint(|tx| tx.insert(Group { name: "g".into() }))?;
            tx.insert(post(ann, 1, "clash")) // by_slot clash: the savepoint fails
        });
        assert!(inner.unwrap_err().is_unique(Post::by_slot()));
        // A savepoint that succeeds keeps its writes.
        tx.savepoint(|tx| tx.insert(post(ann, 3, "also kept")))?;
        Ok(())
    })
    .unwrap();
    let tx = db.read().unwrap();
    let titles: Vec<String> = tx
        .query::<Post>()
        .filter(Post::author_id().eq(ann))
        .all()
        .unwrap()
        .iter()
        .map(|p| p.title.clone())
        .collect();
    assert_eq!(titles, ["kept", "also kept"]);
    assert_eq!(
        tx.get(ann).unwrap().unwrap().visits,
        21,
        "two hooks' writes kept"
    );
    assert_eq!(tx.query::<Group>().count().unwrap(), 0);
    drop(tx);

    // A cascade inside a savepoint comes back with it.
    let before = state(&db);
    db.write(|tx| {
        let r: redorm::Result<()> = tx.savepoint(|tx| {
            tx.hard_delete(ann)?; // cascades to the posts
            Err(Error::hook("changed my mind"))
        });
        assert!(r.is_err());
        Ok(())
    })
    .unwrap();
    assert_eq!(state(&db), before);
}

#[apply(engines)]
fn a_panic_inside_a_savepoint_undoes_it_and_goes_on_unwinding(engine: Engine) {
    let db = builder().open_on(engine);
    let mut tx = db.begin_write().unwrap();
    tx.insert(Group {
        name: "kept".into(),
    })
    .unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.savepoint(|tx| -> redorm::Result<()> {
            tx.insert(Group {
                name: "lost".into(),
            })?;
            panic!("boom");
        })
    }));
    assert!(caught.is_err());
    tx.insert(Group {
        name: "after".into(),
    })
    .unwrap();
    tx.commit().unwrap();
    let names: Vec<String> = db
        .read()
        .unwrap()
        .query::<Group>()
        .all()
        .unwrap()
        .iter()
        .map(|g| g.name.clone())
        .collect();
    assert_eq!(names, ["kept", "after"]);
}

#[derive(Debug)]
enum AppError {
    Db(Error),
    Io(#[allow(dead_code)] std::io::Error),
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::Db(e)
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Io(e)
    }
}

#[derive(Debug, PartialEq)]
struct Banned(String);

impl std::fmt::Display for Banned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is banned", self.0)
    }
}

impl std::error::Error for Banned {}

#[apply(engines)]
fn transactions_take_the_applications_error_type(engine: Engine) {
    let db = builder().open_on(engine);
    let ok: Result<Id<Group>, AppError> =
        db.transaction(|tx| Ok(tx.insert(Group { name: "a".into() })?));
    let a = ok.unwrap();
    let failed: Result<(), AppError> = db.transaction(|tx| {
        tx.insert(Group { name: "b".into() })?;
        std::fs::read("/nonexistent/redorm/file")?;
        Ok(())
    });
    assert!(matches!(failed, Err(AppError::Io(_))));
    let clash: Result<(), AppError> = db.transaction(|tx| {
        tx.insert(Group { name: "a".into() })?;
        Ok(())
    });
    assert!(matches!(clash, Err(AppError::Db(ref e)) if e.is_unique(Group::by_name())));
    let names: Vec<Id<Group>> = db
        .read()
        .unwrap()
        .query::<Group>()
        .all()
        .unwrap()
        .iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(names, [a], "the failed transactions rolled back");
}

#[apply(engines)]
fn a_hook_cancels_with_a_typed_error(engine: Engine) {
    let db = builder()
        .before_insert::<User>(|_, u| {
            if u.handle == "mallory" {
                return Err(Error::cancel(Banned(u.handle.clone())));
            }
            Ok(())
        })
        .open_on(engine);
    let err = db
        .write(|tx| tx.insert(user("m@x", "mallory")))
        .unwrap_err();
    assert_eq!(
        err.cancelled_by::<Banned>(),
        Some(&Banned("mallory".into()))
    );
    assert_eq!(err.to_string(), "cancelled: mallory is banned");
    assert!(std::error::Error::source(&err).is_some());
    let err = db
        .write(|tx| tx.insert_many([user("a@x", "a"), user("m@x", "mallory")]))
        .unwrap_err();
    assert_eq!(
        err.cancelled_by::<Banned>(),
        Some(&Banned("mallory".into()))
    );
}

// ---- after-commit hooks and subscriptions ---------------------------------------------------

#[apply(engines)]
fn after_commit_hooks_see_the_net_changes_of_committed_work_only(engine: Engine) {
    let seen: Arc<Mutex<Vec<Vec<Change>>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let (log, errs) = (seen.clone(), failures.clone());
    let db = builder()
        .after_commit(move |changes| {
            log.lock().unwrap().push(changes.to_vec());
            Ok(())
        })
        .after_commit(|changes| {
            if changes.iter().any(|c| c.table == "groups") {
                return Err(Error::hook("groups are watched"));
            }
            if changes.iter().any(|c| c.kind == ChangeKind::Deleted) {
                panic!("deletes are watched");
            }
            Ok(())
        })
        .on_after_commit_error(move |e| errs.lock().unwrap().push(e.to_string()))
        .open_on(engine);
    let ann = db.write(|tx| tx.insert(user("ann@x", "ann"))).unwrap();
    // Rolled back: never seen.
    let _ = db.write(|tx| -> redorm::Result<()> {
        tx.insert(user("x@x", "x"))?;
        Err(Error::hook("no"))
    });
    // Inserted and deleted in one transaction, patched twice, a savepoint undone: net effects.
    db.write(|tx| {
        let tmp = tx.insert(Group { name: "tmp".into() })?;
        tx.patch(ann, |u| u.visits = 2)?;
        tx.patch(ann, |u| u.visits = 3)?;
        tx.hard_delete(tmp)?;
        let _ = tx.savepoint(|tx| -> redorm::Result<()> {
            tx.insert(Group {
                name: "undone".into(),
            })?;
            Err(Error::hook("undo"))
        });
        tx.insert(Group {
            name: "kept".into(),
        })
    })
    .unwrap();
    db.write(|tx| tx.hard_delete(ann)).unwrap();
    // A transaction that changes nothing runs no hook.
    db.write(|tx| tx.query::<User>().count()).unwrap();
    let seen = seen.lock().unwrap();
    let kinds: Vec<Vec<(&str, u64, ChangeKind)>> = seen
        .iter()
        .map(|c| c.iter().map(|c| (c.table, c.id, c.kind)).collect())
        .collect();
    assert_eq!(
        kinds,
        vec![
            vec![("users", 1, ChangeKind::Inserted)],
            vec![
                ("users", 1, ChangeKind::Updated),
                ("groups", 2, ChangeKind::Inserted)
            ],
            vec![("users", 1, ChangeKind::Deleted)],
        ]
    );
    assert_eq!(seen[2][0].id_of::<User>(), Some(ann));
    assert_eq!(seen[2][0].id_of::<Group>(), None);
    assert_eq!(
        *failures.lock().unwrap(),
        [
            "cancelled by a hook: groups are watched",
            "cancelled by a hook: an after-commit hook panicked: deletes are watched"
        ]
    );
    // The failing hooks undid nothing.
    assert_eq!(db.read().unwrap().query::<Group>().count().unwrap(), 1);
}

#[apply(engines)]
fn a_subscription_gets_every_committed_change_once_in_commit_order(engine: Engine) {
    let db = builder().open_on(engine);
    let counter = db
        .write(|tx| tx.insert(Group { name: "0".into() }))
        .unwrap();
    let feed = db.subscribe::<Group>().unwrap();
    let others = db.subscribe::<User>().unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    // Every transaction bumps the counter: its value is the commit order.
                    let r = db.write(|tx| {
                        let n: u64 = tx.get(counter)?.unwrap().name.parse().unwrap();
                        tx.patch(counter, |g| g.name = (n + 1).to_string())?;
                        if i % 5 == 4 {
                            return Err(Error::hook("rolled back"));
                        }
                        tx.insert(Group {
                            name: format!("w{w}-{i}"),
                        })?;
                        Ok(())
                    });
                    assert_eq!(r.is_err(), i % 5 == 4);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let events = feed.drain();
    let mut order = Vec::new();
    let mut inserted = Vec::new();
    for e in &events {
        let Event::Changed(c) = e else {
            panic!("no lag with a buffer this size: {e:?}")
        };
        match c.kind {
            ChangeKind::Updated => {
                assert_eq!(c.id, counter);
                order.push(c.row.as_ref().unwrap().name.parse::<u64>().unwrap());
            }
            ChangeKind::Inserted => inserted.push(c.row.as_ref().unwrap().name.clone()),
            ChangeKind::Deleted => panic!("nothing was deleted"),
        }
    }
    assert_eq!(
        order,
        (1..=80).collect::<Vec<u64>>(),
        "80 commits, in commit order"
    );
    inserted.sort();
    let mut expected: Vec<String> = (0..4)
        .flat_map(|w| {
            (0..25)
                .filter(|i| i % 5 != 4)
                .map(move |i| format!("w{w}-{i}"))
        })
        .collect();
    expected.sort();
    assert_eq!(
        inserted, expected,
        "every committed insert once; no rolled-back one"
    );
    assert!(others.try_recv().is_none(), "no user changed");
}

#[apply(engines)]
fn a_slow_subscriber_is_told_it_lagged_and_never_blocks_writers(engine: Engine) {
    let db = builder().open_on(engine);
    let feed = db
        .subscribe_with::<Group>(3, |c| c.row.as_ref().is_some_and(|g| g.name != "skip"))
        .unwrap();
    for i in 0..6 {
        db.write(|tx| {
            tx.insert(Group {
                name: format!("g{i}"),
            })
        })
        .unwrap();
    }
    db.write(|tx| {
        tx.insert(Group {
            name: "skip".into(),
        })
    })
    .unwrap();
    let names = |events: Vec<Event<Group>>| -> Vec<String> {
        events
            .into_iter()
            .map(|e| match e {
                Event::Changed(c) => c.row.unwrap().name.clone(),
                Event::Lagged => "LAGGED".to_string(),
            })
            .collect()
    };
    assert_eq!(names(feed.drain()), ["g0", "g1", "g2"]);
    db.write(|tx| tx.insert(Group { name: "g6".into() }))
        .unwrap();
    assert_eq!(names(feed.drain()), ["LAGGED", "g6"]);
    drop(feed);
    // Writers go on after the subscriber is gone.
    db.write(|tx| tx.insert(Group { name: "g7".into() }))
        .unwrap();
}
