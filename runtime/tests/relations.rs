//! Relations: one-to-one, one-to-many, many-to-one, many-to-many with payload, self
//! relations, aliased pairs, nested loads with per-level limits and filters, batching
//! (asserted by counting storage probes), lazy loading, and the error paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, Store, engines};
use redorm::prelude::*;
use redorm::{Error, TxStats};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
#[has_many(posts, Post, by = author_id)]
#[has_many(reviews, Post, by = reviewer_id)]
#[has_one(profile, Profile, by = user_id)]
#[has_many(reports, User, by = manager_id)]
#[has_many(memberships, Membership, by = user_id)]
#[many_to_many(groups, Group, through = Membership, from = user_id, to = group_id)]
struct User {
    #[unique]
    name: String,
    #[belongs_to(manager, User)]
    manager_id: Option<Id<User>>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "profiles")]
struct Profile {
    #[unique]
    #[belongs_to(user, User)]
    user_id: Id<User>,
    bio: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts")]
#[has_many(comments, Comment, by = post_id)]
struct Post {
    #[belongs_to(author, User)]
    author_id: Id<User>,
    #[belongs_to(reviewer, User)]
    reviewer_id: Option<Id<User>>,
    title: String,
    published: bool,
    created: i64,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "comments")]
struct Comment {
    #[belongs_to(post, Post)]
    post_id: Id<Post>,
    body: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "groups")]
#[many_to_many(members, User, through = Membership, from = group_id, to = user_id)]
struct Group {
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "memberships", unique(by_pair = [user_id, group_id]))]
struct Membership {
    #[belongs_to(user, User)]
    user_id: Id<User>,
    #[belongs_to(group, Group)]
    group_id: Id<Group>,
    role: String,
}

fn builder() -> redorm::DbBuilder {
    Db::builder()
        .table::<User>()
        .table::<Profile>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Group>()
        .table::<Membership>()
}

struct Fixture {
    db: Db,
    ann: Id<User>,
    bob: Id<User>,
    cy: Id<User>,
    dee: Id<User>,
    rust: Id<Group>,
    go: Id<Group>,
}

fn fixture(engine: Engine) -> Fixture {
    let db = builder().open_on(engine);
    db.write(|tx| {
        let ann = tx.insert(User {
            name: "ann".into(),
            manager_id: None,
        })?;
        let bob = tx.insert(User {
            name: "bob".into(),
            manager_id: Some(ann),
        })?;
        let cy = tx.insert(User {
            name: "cy".into(),
            manager_id: Some(ann),
        })?;
        let dee = tx.insert(User {
            name: "dee".into(),
            manager_id: Some(bob),
        })?;
        tx.insert(Profile {
            user_id: ann,
            bio: "boss".into(),
        })?;
        tx.insert(Profile {
            user_id: cy,
            bio: "writer".into(),
        })?;
        let mut n = 0;
        for (author, reviewer, title, published) in [
            (ann, Some(bob), "a1", true),
            (ann, None, "a2", false),
            (ann, Some(cy), "a3", true),
            (bob, Some(ann), "b1", true),
            (cy, Some(ann), "c1", true),
            (cy, Some(bob), "c2", false),
        ] {
            n += 1;
            let post = tx.insert(Post {
                author_id: author,
                reviewer_id: reviewer,
                title: title.into(),
                published,
                created: n,
            })?;
            for k in 0..n % 3 {
                tx.insert(Comment {
                    post_id: post,
                    body: format!("{title}-c{k}"),
                })?;
            }
        }
        let rust = tx.insert(Group {
            name: "rust".into(),
        })?;
        let go = tx.insert(Group { name: "go".into() })?;
        tx.insert(Membership {
            user_id: ann,
            group_id: rust,
            role: "owner".into(),
        })?;
        tx.insert(Membership {
            user_id: bob,
            group_id: rust,
            role: "member".into(),
        })?;
        tx.insert(Membership {
            user_id: bob,
            group_id: go,
            role: "owner".into(),
        })?;
        Ok(Fixture {
            db: db.clone(),
            ann,
            bob,
            cy,
            dee,
            rust,
            go,
        })
    })
    .unwrap()
}

fn titles(posts: &[Doc<Post>]) -> Vec<&str> {
    posts.iter().map(|p| p.title.as_str()).collect()
}

#[apply(engines)]
fn one_to_many_loads_children_in_id_order_and_empty_for_childless_parents(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let users = tx.query::<User>().with(User::posts()).all().unwrap();
    let got: Vec<(&str, Vec<&str>)> = users
        .iter()
        .map(|u| (u.name.as_str(), titles(u.get(User::posts()))))
        .collect();
    assert_eq!(
        got,
        [
            ("ann", vec!["a1", "a2", "a3"]),
            ("bob", vec!["b1"]),
            ("cy", vec!["c1", "c2"]),
            ("dee", vec![])
        ]
    );
}

#[apply(engines)]
fn many_to_one_and_optional_many_to_one(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let posts = tx
        .query::<Post>()
        .with(Post::author())
        .with(Post::reviewer())
        .all()
        .unwrap();
    let got: Vec<(&str, &str, Option<&str>)> = posts
        .iter()
        .map(|p| {
            (
                p.title.as_str(),
                p.get(Post::author()).map(|u| u.name.as_str()).unwrap(),
                p.get(Post::reviewer()).map(|u| u.name.as_str()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a1", "ann", Some("bob")),
            ("a2", "ann", None),
            ("a3", "ann", Some("cy")),
            ("b1", "bob", Some("ann")),
            ("c1", "cy", Some("ann")),
            ("c2", "cy", Some("bob")),
        ]
    );
}

#[apply(engines)]
fn one_to_one_back_reference(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let users = tx.query::<User>().with(User::profile()).all().unwrap();
    let bios: Vec<Option<&str>> = users
        .iter()
        .map(|u| u.get(User::profile()).map(|p| p.bio.as_str()))
        .collect();
    assert_eq!(bios, [Some("boss"), None, Some("writer"), None]);
    let profile = tx
        .query::<Profile>()
        .with(Profile::user())
        .first()
        .unwrap()
        .unwrap();
    assert_eq!(profile.get(Profile::user()).unwrap().id, f.ann);
}

#[apply(engines)]
fn self_relations_in_both_directions(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let users = tx
        .query::<User>()
        .with(User::manager())
        .with(User::reports().with(User::reports()))
        .all()
        .unwrap();
    let ann = &users[0];
    assert!(ann.get(User::manager()).is_none());
    let reports: Vec<&str> = ann
        .get(User::reports())
        .iter()
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(reports, ["bob", "cy"]);
    let grand: Vec<&str> = ann.get(User::reports())[0]
        .get(User::reports())
        .iter()
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(grand, ["dee"]);
    assert_eq!(users[3].get(User::manager()).unwrap().id, f.bob);
}

#[apply(engines)]
fn aliased_pairs_between_the_same_tables(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let users = tx
        .query::<User>()
        .with(User::posts())
        .with(User::reviews())
        .all()
        .unwrap();
    let got: Vec<(Vec<&str>, Vec<&str>)> = users
        .iter()
        .map(|u| (titles(u.get(User::posts())), titles(u.get(User::reviews()))))
        .collect();
    assert_eq!(
        got,
        [
            (vec!["a1", "a2", "a3"], vec!["b1", "c1"]),
            (vec!["b1"], vec!["a1", "c2"]),
            (vec!["c1", "c2"], vec!["a3"]),
            (vec![], vec![]),
        ]
    );
}

#[apply(engines)]
fn many_to_many_with_payload_both_ways(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let users = tx.query::<User>().with(User::groups()).all().unwrap();
    let got: Vec<Vec<&str>> = users
        .iter()
        .map(|u| {
            u.get(User::groups())
                .iter()
                .map(|g| g.name.as_str())
                .collect()
        })
        .collect();
    assert_eq!(got, [vec!["rust"], vec!["rust", "go"], vec![], vec![]]);
    let groups = tx.query::<Group>().with(Group::members()).all().unwrap();
    let got: Vec<Vec<Id<User>>> = groups
        .iter()
        .map(|g| g.get(Group::members()).iter().map(|u| u.id).collect())
        .collect();
    assert_eq!(got, [vec![f.ann, f.bob], vec![f.bob]]);
    // The join table is a relation too, with its own payload and nested `with`.
    let bob = tx
        .query::<User>()
        .filter(User::name().eq("bob"))
        .with(User::memberships().with(Membership::group()))
        .first()
        .unwrap()
        .unwrap();
    let roles: Vec<(&str, &str)> = bob
        .get(User::memberships())
        .iter()
        .map(|m| {
            (
                m.role.as_str(),
                m.get(Membership::group()).unwrap().name.as_str(),
            )
        })
        .collect();
    assert_eq!(roles, [("member", "rust"), ("owner", "go")]);
    let _ = (f.rust, f.go);
}

#[apply(engines)]
fn nested_three_levels_with_per_level_filters_orders_and_limits(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let users = tx
        .query::<User>()
        .with(
            User::posts()
                .filter(Post::published().eq(true))
                .order_by(Post::created().desc())
                .limit(1)
                .with(Post::comments().limit(1)),
        )
        .all()
        .unwrap();
    type Tree<'a> = Vec<(&'a str, Vec<(&'a str, Vec<&'a str>)>)>;
    let got: Tree<'_> = users
        .iter()
        .map(|u| {
            (
                u.name.as_str(),
                u.get(User::posts())
                    .iter()
                    .map(|p| {
                        (
                            p.title.as_str(),
                            p.get(Post::comments())
                                .iter()
                                .map(|c| c.body.as_str())
                                .collect(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("ann", vec![("a3", vec![])]),
            ("bob", vec![("b1", vec!["b1-c0"])]),
            ("cy", vec![("c1", vec!["c1-c0"])]),
            ("dee", vec![]),
        ]
    );
    let _ = (f.cy, f.dee);
}

#[apply(engines)]
fn offset_per_parent(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let ann = tx.get(f.ann).unwrap().unwrap();
    let rest = tx.load(&ann, User::posts().offset(1)).unwrap();
    assert_eq!(titles(&rest), ["a2", "a3"]);
}

#[apply(engines)]
fn loading_is_batched_one_probe_per_distinct_key_per_level(engine: Engine) {
    let db = builder().open_on(engine);
    db.write(|tx| {
        for u in 0..20 {
            let user = tx.insert(User {
                name: format!("u{u}"),
                manager_id: None,
            })?;
            for p in 0..5 {
                let post = tx.insert(Post {
                    author_id: user,
                    reviewer_id: None,
                    title: format!("p{u}-{p}"),
                    published: true,
                    created: p,
                })?;
                for c in 0..3 {
                    tx.insert(Comment {
                        post_id: post,
                        body: format!("c{c}"),
                    })?;
                }
            }
        }
        Ok(())
    })
    .unwrap();
    let tx = db.read().unwrap();
    let before = tx.stats();
    let users = tx
        .query::<User>()
        .with(User::posts().with(Post::comments()))
        .all()
        .unwrap();
    let after = tx.stats();
    assert_eq!(users.len(), 20);
    assert!(users.iter().all(|u| u.get(User::posts()).len() == 5));
    assert!(users.iter().all(|u| {
        u.get(User::posts())
            .iter()
            .all(|p| p.get(Post::comments()).len() == 3)
    }));
    // Level 1: 20 user rows read by id order (1 table scan, not counted as probes).
    // Level 2: one probe per distinct user (20) + 100 post reads.
    // Level 3: one probe per distinct post (100) + 300 comment reads.
    assert_eq!(
        TxStats {
            index_scans: after.index_scans - before.index_scans,
            row_reads: after.row_reads - before.row_reads,
        },
        TxStats {
            index_scans: 120,
            row_reads: 400
        }
    );
}

#[apply(engines)]
fn duplicate_keys_across_parents_are_read_once(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let before = tx.stats();
    let posts = tx.query::<Post>().with(Post::author()).all().unwrap();
    let after = tx.stats();
    assert_eq!(posts.len(), 6);
    // 6 posts by 3 distinct authors: 3 author reads.
    assert_eq!(after.row_reads - before.row_reads, 3);
}

#[apply(engines)]
fn depth_and_fan_out_limits(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let mut rel = User::reports();
    for _ in 0..10 {
        rel = User::reports().with(rel);
    }
    let err = tx.query::<User>().with(rel).all().unwrap_err();
    assert!(
        matches!(&err, Error::DepthExceeded { relation, max: 10 } if relation == "users.reports"),
        "{err:?}"
    );

    let db = builder().fan_out_max_keys(2).open_on(engine);
    db.write(|tx| {
        for i in 0..3 {
            tx.insert(User {
                name: format!("u{i}"),
                manager_id: None,
            })?;
        }
        Ok(())
    })
    .unwrap();
    let tx = db.read().unwrap();
    let err = tx.query::<User>().with(User::posts()).all().unwrap_err();
    assert!(
        matches!(&err, Error::FanOutExceeded { relation, keys: 3, max: 2 } if relation == "users.posts"),
        "{err:?}"
    );
    assert_eq!(
        tx.query::<User>()
            .with(User::posts().allow_fan_out())
            .all()
            .unwrap()
            .len(),
        3
    );
}

#[apply(engines)]
fn get_panics_with_the_relation_name_when_not_loaded_and_try_get_is_none(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let ann = tx.get(f.ann).unwrap().unwrap();
    assert!(ann.try_get(User::posts()).is_none());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = ann.get(User::posts());
    }));
    let msg = caught.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("relation `posts` was not loaded"), "{msg}");
}

#[apply(engines)]
fn load_into_rows_already_read_is_batched(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let mut users: Vec<Doc<User>> = tx
        .get_many([f.cy, f.ann, f.cy])
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    let before = tx.stats();
    tx.load_into(&mut users, User::posts().with(Post::comments()))
        .unwrap();
    let after = tx.stats();
    let got: Vec<Vec<&str>> = users.iter().map(|u| titles(u.get(User::posts()))).collect();
    assert_eq!(
        got,
        [vec!["c1", "c2"], vec!["a1", "a2", "a3"], vec!["c1", "c2"]]
    );
    // 2 distinct users: 2 post probes; 5 distinct posts: 5 comment probes.
    assert_eq!(after.index_scans - before.index_scans, 7);
}

#[apply(engines)]
fn lazy_load_and_get_many(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let cy = tx.get(f.cy).unwrap().unwrap();
    assert_eq!(titles(&tx.load(&cy, User::posts()).unwrap()), ["c1", "c2"]);
    assert_eq!(tx.load(&cy, User::manager()).unwrap().unwrap().id, f.ann);
    assert_eq!(
        tx.load(&cy, User::profile()).unwrap().unwrap().bio,
        "writer"
    );
    assert!(tx.load(&cy, User::groups()).unwrap().is_empty());
    let many = tx.get_many([f.dee, Id::from_raw(999), f.ann]).unwrap();
    let names: Vec<Option<&str>> = many
        .iter()
        .map(|d| d.as_ref().map(|u| u.name.as_str()))
        .collect();
    assert_eq!(names, [Some("dee"), None, Some("ann")]);
}

#[apply(engines)]
fn foreign_keys_are_checked_on_insert_patch_and_replace_and_nothing_is_kept(engine: Engine) {
    let f = fixture(engine);
    let ghost = Id::<User>::from_raw(999);
    let err =
        f.db.write(|tx| {
            tx.insert(Post {
                author_id: ghost,
                reviewer_id: None,
                title: "x".into(),
                published: true,
                created: 0,
            })
        })
        .unwrap_err();
    match &err {
        Error::ForeignKey {
            table,
            column,
            target,
            target_id,
        } => {
            assert_eq!(
                (*table, *column, *target, *target_id),
                ("posts", "author_id", "users", 999)
            );
        }
        other => panic!("expected ForeignKey, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "`posts.author_id` refers to users:999, which does not exist; insert that row first, or point at an existing one"
    );
    let tx = f.db.read().unwrap();
    assert_eq!(tx.query::<Post>().count().unwrap(), 6);
    drop(tx);
    let post = Id::<Post>::from_raw(1);
    let err =
        f.db.write(|tx| tx.patch(post, |p| p.reviewer_id = Some(ghost)))
            .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignKey {
                column: "reviewer_id",
                target_id: 999,
                ..
            }
        ),
        "{err:?}"
    );
    let err =
        f.db.write(|tx| {
            tx.replace(
                post,
                Post {
                    author_id: ghost,
                    reviewer_id: None,
                    title: "y".into(),
                    published: true,
                    created: 0,
                },
            )
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
    assert_eq!(
        f.db.read().unwrap().get(post).unwrap().unwrap().reviewer_id,
        Some(f.bob)
    );
    // A parent inserted earlier in the same transaction is found.
    f.db.write(|tx| {
        let u = tx.insert(User {
            name: "eve".into(),
            manager_id: None,
        })?;
        tx.insert(Post {
            author_id: u,
            reviewer_id: None,
            title: "e".into(),
            published: true,
            created: 9,
        })
    })
    .unwrap();
}

/// Removes row 1 of `users` without the library seeing the posts that refer to it: on redb by
/// editing the file with redb itself; on the memory engine, which has no raw write access, by
/// deleting it through a database that registers a stand-in for `users` (same columns and
/// indexes, no relations) and none of the tables that refer to it.
fn remove_user_1_behind_the_librarys_back(store: &Store) {
    if let Some(path) = store.redb_path() {
        let raw = redb::Database::open(path).unwrap();
        let txn = raw.begin_write().unwrap();
        {
            let def: redb::TableDefinition<'_, u64, &[u8]> = redb::TableDefinition::new("users");
            txn.open_table(def).unwrap().remove(1u64).unwrap();
        }
        txn.commit().unwrap();
        return;
    }
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "users")]
    struct UsersAlone {
        #[unique]
        name: String,
        #[belongs_to(manager, UsersAlone)]
        manager_id: Option<Id<UsersAlone>>,
    }
    let db = store.open(Db::builder().table::<UsersAlone>());
    db.write(|tx| tx.delete(Id::<UsersAlone>::from_raw(1)))
        .unwrap();
    assert!(
        db.read()
            .unwrap()
            .get(Id::<UsersAlone>::from_raw(1))
            .unwrap()
            .is_none()
    );
}

#[apply(engines)]
fn a_dangling_required_reference_is_an_error_not_a_panic(engine: Engine) {
    // Write a post whose author is then removed behind the library's back.
    let store = Store::new(engine);
    {
        let db = store.open(builder());
        db.write(|tx| {
            let u = tx.insert(User {
                name: "gone".into(),
                manager_id: None,
            })?;
            tx.insert(Post {
                author_id: u,
                reviewer_id: Some(u),
                title: "t".into(),
                published: true,
                created: 1,
            })
        })
        .unwrap();
    }
    remove_user_1_behind_the_librarys_back(&store);
    let db = store.open(builder());
    let tx = db.read().unwrap();
    // The optional reviewer reads as None ...
    let post = tx
        .query::<Post>()
        .with(Post::reviewer())
        .first()
        .unwrap()
        .unwrap();
    assert!(post.get(Post::reviewer()).is_none());
    // ... the required author is an error naming the row and column.
    let err = tx.query::<Post>().with(Post::author()).all().unwrap_err();
    assert!(
        matches!(
            err,
            Error::DanglingReference {
                table: "posts",
                id: 1,
                column: "author_id",
                target: "users",
                target_id: 1
            }
        ),
        "{err:?}"
    );
}

#[apply(engines)]
fn opening_validates_the_relation_graph(engine: Engine) {
    let err = Db::builder()
        .table::<Post>()
        .try_open_on(engine)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Schema { table, message } if table == "posts" && message.contains("`users`, which is not registered")),
        "{err:?}"
    );
    let err = Db::builder()
        .table::<User>()
        .table::<Profile>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Group>()
        .try_open_on(engine)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Schema { message, .. } if message.contains("memberships")),
        "{err:?}"
    );

    #[derive(Table, Debug, Clone)]
    #[table(name = "eggs")]
    struct Egg {
        #[belongs_to(hen, Hen)]
        hen_id: Id<Hen>,
    }
    #[derive(Table, Debug, Clone)]
    #[table(name = "hens")]
    struct Hen {
        #[belongs_to(egg, Egg)]
        egg_id: Id<Egg>,
    }
    let err = Db::builder()
        .table::<Egg>()
        .table::<Hen>()
        .try_open_on(engine)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Schema { message, .. } if message.contains("required foreign keys form a cycle (eggs -> hens -> eggs)")),
        "{err:?}"
    );
}

#[apply(engines)]
fn relation_loading_works_in_a_write_transaction(engine: Engine) {
    let f = fixture(engine);
    f.db.write(|tx| {
        let p = tx.insert(Post {
            author_id: f.dee,
            reviewer_id: None,
            title: "d1".into(),
            published: true,
            created: 7,
        })?;
        let dee = tx
            .query::<User>()
            .filter(User::name().eq("dee"))
            .with(User::posts())
            .first()?
            .unwrap();
        assert_eq!(dee.get(User::posts())[0].id, p);
        Ok(())
    })
    .unwrap();
}
