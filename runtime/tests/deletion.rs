//! Deletion: on_delete actions (cascade, restrict, set_null, set_default), soft deletion with
//! undelete, scheduled deletion run by jobs (including a restart between batches), and hooks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use common::{Engine, OpenOn, Store, engines};
use redorm::prelude::*;
use redorm::{DeleteCause, Error, ManualClock, UpdateCause};
use rstest_reuse::apply;

mod hard {
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "users")]
    pub struct User {
        #[unique]
        pub email: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "profiles")]
    pub struct Profile {
        #[unique]
        #[belongs_to(user, User, on_delete = cascade)]
        pub user_id: Id<User>,
        pub bio: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "posts")]
    pub struct Post {
        #[belongs_to(author, User, on_delete = cascade)]
        pub author_id: Id<User>,
        #[belongs_to(editor, User, on_delete = set_null)]
        pub editor_id: Option<Id<User>>,
        pub title: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "comments")]
    pub struct Comment {
        #[belongs_to(post, Post, on_delete = cascade)]
        pub post_id: Id<Post>,
        pub body: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "tags")]
    pub struct Tag {
        #[unique]
        pub name: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "post_tags")]
    pub struct PostTag {
        #[belongs_to(post, Post, on_delete = cascade)]
        pub post_id: Id<Post>,
        #[belongs_to(tag, Tag, on_delete = cascade)]
        pub tag_id: Id<Tag>,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "invoices")]
    pub struct Invoice {
        #[belongs_to(customer, User)]
        pub customer_id: Id<User>,
        pub cents: u64,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "tickets")]
    pub struct Ticket {
        #[default(Id::<User>::from_raw(1))]
        #[belongs_to(owner, User, on_delete = set_default)]
        pub owner_id: Id<User>,
    }

    pub fn builder() -> redorm::DbBuilder {
        Db::builder()
            .table::<User>()
            .table::<Profile>()
            .table::<Post>()
            .table::<Comment>()
            .table::<Tag>()
            .table::<PostTag>()
    }
}

use hard::{Comment, Post, PostTag, Profile, Tag, User};

struct Blog {
    ann: Id<User>,
    bob: Id<User>,
    rust: Id<Tag>,
}

fn seed(db: &Db) -> Blog {
    db.write(|tx| {
        let ann = tx.insert(User {
            email: "ann@x".into(),
        })?;
        let bob = tx.insert(User {
            email: "bob@x".into(),
        })?;
        tx.insert(Profile {
            user_id: ann,
            bio: "a".into(),
        })?;
        tx.insert(Profile {
            user_id: bob,
            bio: "b".into(),
        })?;
        let rust = tx.insert(Tag {
            name: "rust".into(),
        })?;
        for (author, editor, title) in [
            (ann, Some(bob), "a1"),
            (ann, None, "a2"),
            (bob, Some(ann), "b1"),
        ] {
            let p = tx.insert(Post {
                author_id: author,
                editor_id: editor,
                title: title.into(),
            })?;
            tx.insert(Comment {
                post_id: p,
                body: format!("{title}-c1"),
            })?;
            tx.insert(Comment {
                post_id: p,
                body: format!("{title}-c2"),
            })?;
            tx.insert(PostTag {
                post_id: p,
                tag_id: rust,
            })?;
        }
        Ok(Blog { ann, bob, rust })
    })
    .unwrap()
}

fn counts(db: &Db) -> [usize; 6] {
    let tx = db.read().unwrap();
    [
        tx.query::<User>().count().unwrap(),
        tx.query::<Profile>().count().unwrap(),
        tx.query::<Post>().count().unwrap(),
        tx.query::<Comment>().count().unwrap(),
        tx.query::<Tag>().count().unwrap(),
        tx.query::<PostTag>().count().unwrap(),
    ]
}

#[apply(engines)]
fn deleting_a_user_cascades_and_leaves_the_rest(engine: Engine) {
    let db = hard::builder().open_on(engine);
    let b = seed(&db);
    assert_eq!(counts(&db), [2, 2, 3, 6, 1, 3]);
    db.write(|tx| tx.delete(b.ann)).unwrap();
    // ann, her profile, her 2 posts, their 4 comments and 2 join rows are gone; bob, the tag
    // and bob's post stay; bob's post had ann as editor: set to None.
    assert_eq!(counts(&db), [1, 1, 1, 2, 1, 1]);
    let tx = db.read().unwrap();
    assert!(tx.get(b.ann).unwrap().is_none());
    assert!(tx.get_by(User::by_email(), "ann@x").unwrap().is_none());
    let left = tx.query::<Post>().first().unwrap().unwrap();
    assert_eq!((left.title.as_str(), left.editor_id), ("b1", None));
    assert!(tx.get(b.rust).unwrap().is_some());
    // The cleared foreign key left its index: no post is indexed under ann as editor.
    assert_eq!(
        tx.query::<Post>()
            .filter(Post::editor_id().eq(b.ann))
            .count()
            .unwrap(),
        0
    );
    assert_eq!(
        tx.query::<Post>()
            .filter(Post::editor_id().is_null())
            .count()
            .unwrap(),
        1
    );
    let _ = b.bob;
}

#[apply(engines)]
fn deleting_a_tag_removes_join_rows_and_keeps_posts(engine: Engine) {
    let db = hard::builder().open_on(engine);
    let b = seed(&db);
    db.write(|tx| tx.delete(b.rust)).unwrap();
    assert_eq!(counts(&db), [2, 2, 3, 6, 0, 0]);
}

#[apply(engines)]
fn restrict_blocks_and_leaves_everything(engine: Engine) {
    let db = hard::builder().table::<hard::Invoice>().open_on(engine);
    let b = seed(&db);
    db.write(|tx| {
        tx.insert(hard::Invoice {
            customer_id: b.ann,
            cents: 100,
        })?;
        tx.insert(hard::Invoice {
            customer_id: b.ann,
            cents: 200,
        })
    })
    .unwrap();
    let before = counts(&db);
    let err = db.write(|tx| tx.delete(b.ann)).unwrap_err();
    match &err {
        Error::Restrict {
            table,
            id,
            child_table,
            column,
            count,
        } => {
            assert_eq!(
                (*table, *id, *child_table, *column, *count),
                ("users", b.ann.get(), "invoices", "customer_id", 2)
            );
        }
        other => panic!("expected Restrict, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("cannot delete users:1: 2 row(s) of `invoices` still refer to it"),
        "{err}"
    );
    assert_eq!(counts(&db), before);
    // Inside a transaction the refused delete changed nothing either.
    db.write(|tx| {
        assert!(tx.delete(b.ann).is_err());
        assert!(tx.get(b.ann)?.is_some());
        assert_eq!(tx.query::<Post>().count()?, 3);
        Ok(())
    })
    .unwrap();
}

#[apply(engines)]
fn set_default_points_children_at_the_default(engine: Engine) {
    let db = hard::builder().table::<hard::Ticket>().open_on(engine);
    let b = seed(&db);
    let t = db
        .write(|tx| tx.insert(hard::Ticket { owner_id: b.bob }))
        .unwrap();
    db.write(|tx| tx.delete(b.bob)).unwrap();
    let ticket = db.read().unwrap().get(t).unwrap().unwrap();
    assert_eq!(
        ticket.owner_id, b.ann,
        "#[default(Id::<User>::from_raw(1))] is ann"
    );
}

#[apply(engines)]
fn a_cascade_over_max_cascade_rows_is_refused_before_anything_changes(engine: Engine) {
    let db = hard::builder().max_cascade_rows(5).open_on(engine);
    let b = seed(&db);
    let before = counts(&db);
    let err = db.write(|tx| tx.delete(b.ann)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CascadeTooLarge {
                table: "users",
                max: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("scheduled deletion"), "{err}");
    assert_eq!(counts(&db), before);
}

#[apply(engines)]
fn delete_many_applies_the_rules_per_row_and_needs_a_filter(engine: Engine) {
    let db = hard::builder().open_on(engine);
    let b = seed(&db);
    let err = db
        .write(|tx| tx.delete_many::<Post>().execute())
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery { reason, .. } if reason.contains("say .all()")),
        "{err:?}"
    );
    let n = db
        .write(|tx| {
            tx.delete_many::<Post>()
                .filter(Post::author_id().eq(b.ann))
                .execute()
        })
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(counts(&db), [2, 2, 1, 2, 1, 1]);
    let n = db
        .write(|tx| tx.update::<Post>().all().set(|p| p.title.push('!')))
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        db.read()
            .unwrap()
            .query::<Post>()
            .first()
            .unwrap()
            .unwrap()
            .title,
        "b1!"
    );
    let err = db
        .write(|tx| tx.update::<Post>().set(|p| p.title.clear()))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery { .. }));
}

#[apply(engines)]
fn hooks_observe_every_row_a_cascade_deletes_in_order(engine: Engine) {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let (l1, l2, l3, l4) = (log.clone(), log.clone(), log.clone(), log.clone());
    let db = hard::builder()
        .after_delete::<User>(move |_, d, c| {
            l1.lock().unwrap().push(format!("user {} {c:?}", d.email));
            Ok(())
        })
        .after_delete::<Post>(move |_, d, c| {
            l2.lock().unwrap().push(format!("post {} {c:?}", d.title));
            Ok(())
        })
        .after_delete::<Comment>(move |_, d, _| {
            l3.lock().unwrap().push(format!("comment {}", d.body));
            Ok(())
        })
        .after_update::<Post>(move |_, old, new, c| {
            l4.lock().unwrap().push(format!(
                "post {} editor {:?}->{:?} {c:?}",
                new.title, old.editor_id, new.editor_id
            ));
            Ok(())
        })
        .open_on(engine);
    let b = seed(&db);
    db.write(|tx| tx.delete(b.ann)).unwrap();
    let log = log.lock().unwrap().clone();
    let ann = b.ann.get();
    assert_eq!(
        log,
        [
            format!(
                "post b1 editor Some(Id({ann}))->None ForeignKeyAction {{ parent_table: \"users\", parent_id: {ann} }}"
            ),
            "comment a1-c1".to_string(),
            "comment a1-c2".to_string(),
            format!("post a1 Cascade {{ parent_table: \"users\", parent_id: {ann} }}"),
            "comment a2-c1".to_string(),
            "comment a2-c2".to_string(),
            format!("post a2 Cascade {{ parent_table: \"users\", parent_id: {ann} }}"),
            "user ann@x Direct".to_string(),
        ]
    );
}

#[apply(engines)]
fn a_hook_error_rolls_back_the_whole_delete(engine: Engine) {
    let db = hard::builder()
        .before_delete::<Comment>(|_, d, _| {
            if d.body == "a2-c2" {
                Err(Error::hook("comment a2-c2 is on legal hold"))
            } else {
                Ok(())
            }
        })
        .open_on(engine);
    let b = seed(&db);
    let before = counts(&db);
    let err = db.write(|tx| tx.delete(b.ann)).unwrap_err();
    assert!(
        matches!(&err, Error::Hook(m) if m == "comment a2-c2 is on legal hold"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "cancelled by a hook: comment a2-c2 is on legal hold"
    );
    assert_eq!(counts(&db), before);
}

#[apply(engines)]
fn hooks_may_change_values_write_more_and_are_bounded_in_depth(engine: Engine) {
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "audit")]
    struct Audit {
        what: String,
    }
    let db = hard::builder()
        .table::<Audit>()
        .before_insert::<User>(|_, u| {
            u.email = u.email.to_lowercase();
            Ok(())
        })
        .after_insert::<User>(|tx, d| {
            tx.insert(Audit {
                what: format!("new user {}", d.email),
            })?;
            Ok(())
        })
        .before_update::<User>(|_, old, new, cause| {
            if *cause == UpdateCause::Write && old.email != new.email && new.email.is_empty() {
                return Err(Error::hook("email may not be emptied"));
            }
            Ok(())
        })
        .after_insert::<Audit>(|tx, d| {
            // A hook that triggers itself: stopped by the depth limit.
            if d.what.starts_with("loop") {
                tx.insert(Audit {
                    what: "loop".into(),
                })?;
            }
            Ok(())
        })
        .open_on(engine);
    let id = db
        .write(|tx| {
            tx.insert(User {
                email: "MiXeD@X".into(),
            })
        })
        .unwrap();
    let tx = db.read().unwrap();
    assert_eq!(tx.get(id).unwrap().unwrap().email, "mixed@x");
    assert_eq!(
        tx.query::<Audit>().first().unwrap().unwrap().what,
        "new user mixed@x"
    );
    drop(tx);
    let err = db
        .write(|tx| tx.patch(id, |u| u.email.clear()))
        .unwrap_err();
    assert!(matches!(err, Error::Hook(_)));
    let err = db
        .write(|tx| {
            tx.insert(Audit {
                what: "loop".into(),
            })
        })
        .unwrap_err();
    assert!(matches!(err, Error::HookDepth { max: 8 }), "{err:?}");
    // without_hooks: no lowercasing, no audit row.
    let raw = db
        .write(|tx| {
            tx.without_hooks(|tx| {
                tx.insert(User {
                    email: "RAW@X".into(),
                })
            })
        })
        .unwrap();
    let tx = db.read().unwrap();
    assert_eq!(tx.get(raw).unwrap().unwrap().email, "RAW@X");
    assert_eq!(tx.query::<Audit>().count().unwrap(), 1);
}

// ---- soft deletion ---------------------------------------------------------------------------

mod soft {
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "users", delete = soft)]
    #[has_many(posts, Post, by = author_id)]
    pub struct User {
        #[unique]
        pub email: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "posts", delete = soft)]
    #[has_many(comments, Comment, by = post_id)]
    pub struct Post {
        #[belongs_to(author, User, on_delete = cascade, on_soft_delete = cascade)]
        pub author_id: Id<User>,
        pub title: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "comments")]
    pub struct Comment {
        #[belongs_to(post, Post, on_delete = cascade, on_soft_delete = cascade)]
        pub post_id: Id<Post>,
        pub body: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "likes")]
    pub struct Like {
        #[belongs_to(user, User, on_delete = cascade)]
        pub user_id: Id<User>,
    }

    pub fn builder() -> redorm::DbBuilder {
        Db::builder()
            .table::<User>()
            .table::<Post>()
            .table::<Comment>()
            .table::<Like>()
    }
}

#[apply(engines)]
fn bulk_writes_on_a_soft_table_skip_its_soft_deleted_rows(engine: Engine) {
    use soft::{Post, User};
    let db = soft::builder().open_on(engine);
    let (ann, posts) = db
        .write(|tx| {
            let ann = tx.insert(User {
                email: "ann@x".into(),
            })?;
            let mut posts = Vec::new();
            for title in ["a", "b", "c", "d"] {
                posts.push(tx.insert(Post {
                    author_id: ann,
                    title: title.into(),
                })?);
            }
            Ok((ann, posts))
        })
        .unwrap();
    db.write(|tx| tx.delete(posts[1])).unwrap();
    // By the foreign-key index (keys decide the match, headers the visibility)...
    let n = db
        .write(|tx| {
            tx.update::<Post>()
                .filter(Post::author_id().eq(ann))
                .set(|p| p.title.push('!'))
        })
        .unwrap();
    assert_eq!(n, 3);
    // ...and by the row table.
    let n = db
        .write(|tx| tx.update::<Post>().all().set(|p| p.title.push('?')))
        .unwrap();
    assert_eq!(n, 3);
    let tx = db.read().unwrap();
    let titles: Vec<String> = posts
        .iter()
        .map(|&id| tx.get_including_deleted(id).unwrap().unwrap().title.clone())
        .collect();
    assert_eq!(titles, ["a!?", "b", "c!?", "d!?"]);
    drop(tx);
    let n = db
        .write(|tx| {
            tx.delete_many::<Post>()
                .filter(Post::author_id().eq(ann))
                .execute()
        })
        .unwrap();
    assert_eq!(n, 3);
    let tx = db.read().unwrap();
    assert_eq!(tx.query::<Post>().only_deleted().count().unwrap(), 4);
}

#[apply(engines)]
fn soft_delete_hides_everywhere_and_undelete_restores_exactly_its_group(engine: Engine) {
    use soft::{Comment, Like, Post, User};
    let clock = ManualClock::new(1_000);
    let db = soft::builder().clock(clock.clone()).open_on(engine);
    let (ann, p1, p2, early) = db
        .write(|tx| {
            let ann = tx.insert(User {
                email: "ann@x".into(),
            })?;
            let p1 = tx.insert(Post {
                author_id: ann,
                title: "p1".into(),
            })?;
            let p2 = tx.insert(Post {
                author_id: ann,
                title: "p2".into(),
            })?;
            tx.insert(Comment {
                post_id: p1,
                body: "c1".into(),
            })?;
            let early = tx.insert(Comment {
                post_id: p1,
                body: "c-early".into(),
            })?;
            tx.insert(Like { user_id: ann })?;
            Ok((ann, p1, p2, early))
        })
        .unwrap();
    // p2 is soft-deleted on its own first.
    db.write(|tx| tx.delete(p2)).unwrap();
    db.write(|tx| tx.delete(early)).unwrap();
    clock.advance(Duration::from_secs(1));
    db.write(|tx| tx.delete(ann)).unwrap();

    let tx = db.read().unwrap();
    // Hidden from get, get_by, queries, counts, pagination and relations.
    assert!(tx.get(ann).unwrap().is_none());
    assert!(tx.get_by(User::by_email(), "ann@x").unwrap().is_none());
    assert_eq!(tx.query::<User>().count().unwrap(), 0);
    assert_eq!(tx.query::<Post>().count().unwrap(), 0);
    assert_eq!(tx.query::<Comment>().count().unwrap(), 0);
    assert!(
        tx.query::<Post>()
            .paginate(None, 10)
            .unwrap()
            .items
            .is_empty()
    );
    // The like's foreign key has no on_soft_delete: it stays visible.
    assert_eq!(tx.query::<Like>().count().unwrap(), 1);
    // Visible on request, with the stamp.
    let gone = tx.get_including_deleted(ann).unwrap().unwrap();
    assert_eq!(gone.deleted_at(), Some(2_000));
    assert_eq!(tx.query::<Post>().include_deleted().count().unwrap(), 2);
    assert_eq!(tx.query::<Post>().only_deleted().count().unwrap(), 2);
    let users = tx
        .query::<User>()
        .include_deleted()
        .with(User::posts())
        .all()
        .unwrap();
    assert!(
        users[0].get(User::posts()).is_empty(),
        "relation loading skips soft-deleted rows"
    );
    let users = tx
        .query::<User>()
        .include_deleted()
        .with(User::posts().include_deleted())
        .all()
        .unwrap();
    assert_eq!(users[0].get(User::posts()).len(), 2);
    drop(tx);

    // New references to a soft-deleted parent are refused.
    let err = db
        .write(|tx| {
            tx.insert(Post {
                author_id: ann,
                title: "x".into(),
            })
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignKey {
                column: "author_id",
                ..
            }
        ),
        "{err:?}"
    );
    // Its unique value stays held by default.
    let err = db
        .write(|tx| {
            tx.insert(User {
                email: "ann@x".into(),
            })
        })
        .unwrap_err();
    assert!(matches!(err, Error::Unique { .. }), "{err:?}");

    // Undelete brings back ann, p1 and c1 — not p2 nor c-early, deleted on their own earlier.
    db.write(|tx| tx.undelete(ann)).unwrap();
    let tx = db.read().unwrap();
    assert!(tx.get(ann).unwrap().is_some());
    assert!(tx.get(p1).unwrap().is_some());
    assert!(tx.get(p2).unwrap().is_none());
    let bodies: Vec<String> = tx
        .query::<Comment>()
        .all()
        .unwrap()
        .into_iter()
        .map(|c| c.body.clone())
        .collect();
    assert_eq!(bodies, ["c1"]);
}

#[apply(engines)]
fn deleting_again_restamps_and_hooks_see_soft_deletes_as_updates(engine: Engine) {
    use soft::{Post, User};
    let clock = ManualClock::new(10);
    let causes: Arc<Mutex<Vec<UpdateCause>>> = Arc::default();
    let seen = causes.clone();
    let db = soft::builder()
        .clock(clock.clone())
        .after_update::<Post>(move |_, _, _, c| {
            seen.lock().unwrap().push(c.clone());
            Ok(())
        })
        .open_on(engine);
    let (ann, p) = db
        .write(|tx| {
            let ann = tx.insert(User { email: "a".into() })?;
            let p = tx.insert(Post {
                author_id: ann,
                title: "t".into(),
            })?;
            Ok((ann, p))
        })
        .unwrap();
    db.write(|tx| tx.delete(ann)).unwrap();
    clock.advance(Duration::from_millis(5));
    db.write(|tx| tx.delete(ann)).unwrap();
    let tx = db.read().unwrap();
    assert_eq!(
        tx.get_including_deleted(ann).unwrap().unwrap().deleted_at(),
        Some(15)
    );
    assert_eq!(
        tx.get_including_deleted(p).unwrap().unwrap().deleted_at(),
        Some(15)
    );
    drop(tx);
    db.write(|tx| tx.undelete(ann)).unwrap();
    let from = Some(("users", ann.get()));
    assert_eq!(
        *causes.lock().unwrap(),
        [
            UpdateCause::SoftDelete { cascade_from: from },
            UpdateCause::SoftDelete { cascade_from: from },
            UpdateCause::Undelete
        ]
    );
    // hard_delete purges whatever the mode.
    db.write(|tx| tx.hard_delete(ann)).unwrap();
    let tx = db.read().unwrap();
    assert!(tx.get_including_deleted(ann).unwrap().is_none());
    assert!(tx.get_including_deleted(p).unwrap().is_none());
}

#[apply(engines)]
fn a_unique_index_can_release_soft_deleted_values(engine: Engine) {
    use soft::User;
    let db = soft::builder()
        .release_on_soft_delete(User::by_email())
        .open_on(engine);
    let old = db
        .write(|tx| {
            tx.insert(User {
                email: "a@x".into(),
            })
        })
        .unwrap();
    db.write(|tx| tx.delete(old)).unwrap();
    let new = db
        .write(|tx| {
            tx.insert(User {
                email: "a@x".into(),
            })
        })
        .unwrap();
    assert_eq!(
        db.read()
            .unwrap()
            .get_by(User::by_email(), "a@x")
            .unwrap()
            .unwrap()
            .id,
        new
    );
    let err = db.write(|tx| tx.undelete(old)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unique {
                index: "by_email",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(db.read().unwrap().get(old).unwrap().is_none());
}

// ---- scheduled deletion ----------------------------------------------------------------------

mod sched {
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "accounts", delete = scheduled(delay = "30d"))]
    pub struct Account {
        pub name: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "projects")]
    pub struct Project {
        #[belongs_to(account, Account, on_delete = cascade, on_soft_delete = cascade)]
        pub account_id: Id<Account>,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "tasks")]
    pub struct Task {
        #[belongs_to(project, Project, on_delete = cascade)]
        pub project_id: Id<Project>,
        #[belongs_to(helper, Account, on_delete = set_null)]
        pub helper_id: Option<Id<Account>>,
    }

    pub fn builder() -> redorm::DbBuilder {
        Db::builder()
            .table::<Account>()
            .table::<Project>()
            .table::<Task>()
    }
}

const DAY: u64 = 24 * 3600;

fn sched_seed(db: &Db) -> (Id<sched::Account>, Id<sched::Account>) {
    use sched::{Account, Project, Task};
    db.write(|tx| {
        let doomed = tx.insert(Account {
            name: "doomed".into(),
        })?;
        let other = tx.insert(Account {
            name: "other".into(),
        })?;
        for _ in 0..3 {
            let p = tx.insert(Project { account_id: doomed })?;
            for _ in 0..4 {
                tx.insert(Task {
                    project_id: p,
                    helper_id: None,
                })?;
            }
        }
        let op = tx.insert(Project { account_id: other })?;
        tx.insert(Task {
            project_id: op,
            helper_id: Some(doomed),
        })?;
        Ok((doomed, other))
    })
    .unwrap()
}

fn sched_counts(db: &Db) -> [usize; 3] {
    let tx = db.read().unwrap();
    [
        tx.query::<sched::Account>()
            .include_deleted()
            .count()
            .unwrap(),
        tx.query::<sched::Project>()
            .include_deleted()
            .count()
            .unwrap(),
        tx.query::<sched::Task>().include_deleted().count().unwrap(),
    ]
}

/// Every foreign key of every surviving row points at an existing row.
fn no_dangling(db: &Db) {
    let tx = db.read().unwrap();
    for p in tx
        .query::<sched::Project>()
        .include_deleted()
        .all()
        .unwrap()
    {
        assert!(
            tx.get_including_deleted(p.account_id).unwrap().is_some(),
            "project {} dangles",
            p.id
        );
    }
    for t in tx.query::<sched::Task>().include_deleted().all().unwrap() {
        assert!(
            tx.get_including_deleted(t.project_id).unwrap().is_some(),
            "task {} dangles",
            t.id
        );
        if let Some(h) = t.helper_id {
            assert!(
                tx.get_including_deleted(h).unwrap().is_some(),
                "task {} helper dangles",
                t.id
            );
        }
    }
}

#[apply(engines)]
fn scheduled_deletion_waits_for_the_delay_then_purges_everything(engine: Engine) {
    let clock = ManualClock::new(0);
    let db = sched::builder()
        .clock(clock.clone())
        .job_batch_rows(4)
        .open_on(engine);
    let (doomed, other) = sched_seed(&db);
    db.write(|tx| tx.delete(doomed)).unwrap();
    // Soft at once, with its projects (on_soft_delete = cascade).
    assert!(db.read().unwrap().get(doomed).unwrap().is_none());
    assert_eq!(
        db.read()
            .unwrap()
            .query::<sched::Project>()
            .count()
            .unwrap(),
        1
    );
    clock.advance(Duration::from_secs(30 * DAY - 1));
    assert_eq!(db.run_due_jobs().unwrap(), redorm::JobReport::default());
    assert_eq!(sched_counts(&db), [2, 4, 13]);
    clock.advance(Duration::from_secs(1));
    let report = db.run_due_jobs().unwrap();
    assert_eq!(report.completed, 1);
    assert_eq!(report.rows_deleted, 1 + 3 + 12);
    assert_eq!(report.rows_updated, 1);
    assert_eq!(report.batches, 5, "18 steps in batches of 4");
    assert_eq!(sched_counts(&db), [1, 1, 1]);
    no_dangling(&db);
    let tx = db.read().unwrap();
    assert!(tx.get(other).unwrap().is_some());
    assert_eq!(
        tx.query::<sched::Task>()
            .first()
            .unwrap()
            .unwrap()
            .helper_id,
        None
    );
    drop(tx);
    assert_eq!(
        db.run_due_jobs().unwrap(),
        redorm::JobReport::default(),
        "the job is gone"
    );
}

#[apply(engines)]
fn undelete_before_the_job_runs_cancels_it(engine: Engine) {
    let clock = ManualClock::new(0);
    let db = sched::builder().clock(clock.clone()).open_on(engine);
    let (doomed, _) = sched_seed(&db);
    db.write(|tx| tx.delete(doomed)).unwrap();
    db.write(|tx| tx.undelete(doomed)).unwrap();
    clock.advance(Duration::from_secs(31 * DAY));
    let report = db.run_due_jobs().unwrap();
    assert_eq!(report.completed, 0);
    assert_eq!(sched_counts(&db), [2, 4, 13]);
    assert_eq!(
        db.read()
            .unwrap()
            .query::<sched::Project>()
            .count()
            .unwrap(),
        4
    );
}

#[apply(engines)]
fn a_purge_interrupted_between_batches_resumes_after_a_restart(engine: Engine) {
    let store = Store::new(engine);
    let clock = ManualClock::new(0);
    let doomed = {
        let db = store.open(sched::builder().clock(clock.clone()));
        let (doomed, _) = sched_seed(&db);
        db.write(|tx| tx.delete(doomed)).unwrap();
        doomed
    };
    clock.advance(Duration::from_secs(31 * DAY));
    // Each "process" dies (a hook fails) after the first batch of 3 rows; every restart
    // reopens the database and the job goes on from where it stopped, leaving nothing dangling.
    let mut runs = 0;
    loop {
        runs += 1;
        let deleted = Arc::new(Mutex::new(0usize));
        let d = deleted.clone();
        let db = store.open(
            sched::builder()
                .clock(clock.clone())
                .job_batch_rows(3)
                .before_delete::<sched::Task>(move |_, _, cause| {
                    assert_eq!(*cause, DeleteCause::Scheduled);
                    let mut n = d.lock().unwrap();
                    *n += 1;
                    if *n > 3 {
                        Err(Error::hook("crash"))
                    } else {
                        Ok(())
                    }
                }),
        );
        let report = db.run_due_jobs().unwrap();
        no_dangling(&db);
        if report.completed == 1 {
            break;
        }
        assert_eq!(report.failed.len(), 1, "{report:?}");
        assert!(report.failed[0].error.contains("crash"));
        assert!(runs < 20, "no progress");
    }
    assert!(runs > 3, "the purge took several restarts ({runs})");
    let db = store.open(sched::builder().clock(clock));
    assert_eq!(sched_counts(&db), [1, 1, 1]);
    assert!(
        db.read()
            .unwrap()
            .get_including_deleted(doomed)
            .unwrap()
            .is_none()
    );
}

#[apply(engines)]
fn a_background_worker_runs_due_jobs(engine: Engine) {
    let clock = ManualClock::new(0);
    let db = sched::builder().clock(clock.clone()).open_on(engine);
    let (doomed, _) = sched_seed(&db);
    db.write(|tx| tx.delete(doomed)).unwrap();
    clock.advance(Duration::from_secs(31 * DAY));
    let worker = db.start_worker(Duration::from_millis(10));
    let mut done = false;
    for _ in 0..500 {
        if db
            .read()
            .unwrap()
            .get_including_deleted(doomed)
            .unwrap()
            .is_none()
        {
            done = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(done, "the worker purged the row");
    worker.stop();
}
