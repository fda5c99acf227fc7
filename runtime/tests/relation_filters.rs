//! Relation filters: `exists`, `none`, `any`, `all` on to-many relations and `is` on to-one
//! relations, composed with `and`/`or`/`not`, nested, in every terminal, with exact rows,
//! `explain()` text, strict mode, and what is read (one lookup per distinct key).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use redorm::prelude::*;
use redorm::{Cursor, Error, Filter};
use rstest_reuse::apply;

#[derive(Column, Debug, Clone, Copy, PartialEq)]
enum Role {
    Member,
    Admin,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", delete = soft)]
#[has_many(posts, Post, by = author_id)]
#[has_many(notes, Note, by = user_id)]
#[has_one(profile, Profile, by = user_id)]
#[many_to_many(groups, Group, through = Member, from = user_id, to = group_id)]
struct User {
    #[index]
    name: String,
    role: Role,
}

/// Soft-deleted posts stay in the file and never count unless the relation says so.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", delete = soft)]
#[has_many(comments, Comment, by = post_id)]
struct Post {
    #[belongs_to(author, User, on_delete = cascade, on_soft_delete = cascade)]
    author_id: Id<User>,
    #[belongs_to(editor, User, on_delete = set_null)]
    editor_id: Option<Id<User>>,
    title: String,
    likes: Option<u32>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "comments")]
struct Comment {
    #[belongs_to(post, Post, on_delete = cascade)]
    post_id: Id<Post>,
    body: String,
}

/// A hard-delete child: an unconditional `exists` reads its index keys alone.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "notes")]
struct Note {
    #[belongs_to(user, User, on_delete = cascade)]
    user_id: Id<User>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "profiles")]
struct Profile {
    #[belongs_to(user, User, on_delete = cascade)]
    #[unique]
    user_id: Id<User>,
    bio: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "groups", delete = soft)]
struct Group {
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "members", unique(by_pair = [user_id, group_id]))]
struct Member {
    #[belongs_to(user, User, on_delete = cascade)]
    user_id: Id<User>,
    #[belongs_to(group, Group, on_delete = cascade)]
    group_id: Id<Group>,
}

/// ann (admin): posts "a1" (3 likes, 2 comments, edited by bob), "a2" (no likes), a deleted
/// "a3" (9 likes); notes 2; a profile; groups red, blue.
/// bob: post "b1" (5 likes, 1 comment); a note; group gone (soft-deleted).
/// cid: nothing. dee (admin): post "d1" (1 like). eve: soft-deleted, post "e1" deleted with her.
fn db(engine: Engine) -> Db {
    let db = Db::builder()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Note>()
        .table::<Profile>()
        .table::<Group>()
        .table::<Member>()
        .open_on(engine);
    db.write(|tx| {
        let user = |name: &str, role| User {
            name: name.into(),
            role,
        };
        let ann = tx.insert(user("ann", Role::Admin))?;
        let bob = tx.insert(user("bob", Role::Member))?;
        tx.insert(user("cid", Role::Member))?;
        let dee = tx.insert(user("dee", Role::Admin))?;
        let eve = tx.insert(user("eve", Role::Member))?;
        let post = |author, editor, title: &str, likes| Post {
            author_id: author,
            editor_id: editor,
            title: title.into(),
            likes,
        };
        let a1 = tx.insert(post(ann, Some(bob), "a1", Some(3)))?;
        tx.insert(post(ann, None, "a2", None))?;
        let a3 = tx.insert(post(ann, Some(ann), "a3", Some(9)))?;
        let b1 = tx.insert(post(bob, Some(dee), "b1", Some(5)))?;
        tx.insert(post(dee, None, "d1", Some(1)))?;
        tx.insert(post(eve, Some(ann), "e1", Some(7)))?;
        tx.delete(a3)?;
        tx.delete(eve)?;
        for (p, body) in [(a1, "nice"), (a1, "more"), (b1, "ok")] {
            tx.insert(Comment {
                post_id: p,
                body: body.into(),
            })?;
        }
        for u in [ann, ann, bob] {
            tx.insert(Note { user_id: u })?;
        }
        tx.insert(Profile {
            user_id: ann,
            bio: "hi".into(),
        })?;
        let red = tx.insert(Group { name: "red".into() })?;
        let blue = tx.insert(Group {
            name: "blue".into(),
        })?;
        let gone = tx.insert(Group {
            name: "gone".into(),
        })?;
        for (u, g) in [(ann, red), (ann, blue), (bob, gone)] {
            tx.insert(Member {
                user_id: u,
                group_id: g,
            })?;
        }
        tx.delete(gone)?;
        Ok(())
    })
    .unwrap();
    db
}

fn users(db: &Db, f: Filter<User>) -> Vec<String> {
    let tx = db.read().unwrap();
    tx.query::<User>()
        .filter(f)
        .allow_full_scan()
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.name.clone())
        .collect()
}

fn posts(db: &Db, f: Filter<Post>) -> Vec<String> {
    let tx = db.read().unwrap();
    tx.query::<Post>()
        .filter(f)
        .allow_full_scan()
        .all()
        .unwrap()
        .into_iter()
        .map(|p| p.title.clone())
        .collect()
}

#[apply(engines)]
fn has_many_quantifiers(engine: Engine) {
    let db = db(engine);
    assert_eq!(users(&db, User::posts().exists()), ["ann", "bob", "dee"]);
    assert_eq!(users(&db, User::posts().none()), ["cid"]);
    // a3 (9 likes) is soft-deleted: it does not count.
    assert_eq!(users(&db, User::posts().any(Post::likes().gte(5))), ["bob"]);
    // Every post liked at least once: a2's `None` is not >= 1, so ann fails; cid has no
    // posts, so "all" holds for cid.
    assert_eq!(
        users(&db, User::posts().all(Post::likes().gte(1))),
        ["bob", "cid", "dee"]
    );
    assert_eq!(
        users(
            &db,
            User::posts()
                .all(Post::likes().gte(1))
                .and(User::posts().exists())
        ),
        ["bob", "dee"]
    );
    // A hard child table.
    assert_eq!(users(&db, User::notes().exists()), ["ann", "bob"]);
    assert_eq!(users(&db, User::notes().none()), ["cid", "dee"]);
}

#[apply(engines)]
fn scope_and_soft_deletion(engine: Engine) {
    let db = db(engine);
    // The relation's own filter decides which related rows count.
    let liked = User::posts().filter(Post::likes().is_not_null());
    // ann's only liked live post, a1, has 3; bob's b1 has 5.
    assert_eq!(
        users(&db, liked.clone().all(Post::likes().lt(4))),
        ["ann", "cid", "dee"]
    );
    assert_eq!(
        users(&db, liked.any(Post::title().eq("a2"))),
        Vec::<String>::new()
    );
    // include_deleted counts the soft-deleted a3.
    assert_eq!(
        users(
            &db,
            User::posts().include_deleted().any(Post::likes().eq(9))
        ),
        ["ann"]
    );
    // Soft-deleted users themselves are not in the query unless it asks.
    let tx = db.read().unwrap();
    let with_deleted: Vec<String> = tx
        .query::<User>()
        .filter(User::posts().include_deleted().exists())
        .include_deleted()
        .allow_full_scan()
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.name.clone())
        .collect();
    assert_eq!(with_deleted, ["ann", "bob", "dee", "eve"]);
}

#[apply(engines)]
fn belongs_to_is(engine: Engine) {
    let db = db(engine);
    assert_eq!(
        posts(&db, Post::author().is(User::role().eq(Role::Admin))),
        ["a1", "a2", "d1"]
    );
    // A null foreign key never matches `is`, and `exists` says whether the target is there.
    assert_eq!(
        posts(&db, Post::editor().is(User::role().eq(Role::Member))),
        ["a1"]
    );
    assert_eq!(posts(&db, Post::editor().exists()), ["a1", "b1"]);
    assert_eq!(posts(&db, Post::editor().none()), ["a2", "d1"]);
    // Negated: the rows whose target does not match, or that have none.
    assert_eq!(
        posts(&db, Post::editor().is(User::role().eq(Role::Member)).not()),
        ["a2", "b1", "d1"]
    );
}

#[apply(engines)]
fn has_one_and_many_to_many(engine: Engine) {
    let db = db(engine);
    assert_eq!(users(&db, User::profile().exists()), ["ann"]);
    assert_eq!(
        users(&db, User::profile().is(Profile::bio().eq("hi"))),
        ["ann"]
    );
    assert_eq!(
        users(&db, User::profile().is(Profile::bio().eq("hi")).not()),
        ["bob", "cid", "dee"]
    );
}

#[apply(engines)]
fn many_to_many_skips_soft_deleted_targets(engine: Engine) {
    let db = db(engine);
    // bob's only group is soft-deleted.
    assert_eq!(users(&db, User::groups().exists()), ["ann"]);
    assert_eq!(
        users(&db, User::groups().any(Group::name().eq("blue"))),
        ["ann"]
    );
    assert_eq!(
        users(&db, User::groups().include_deleted().exists()),
        ["ann", "bob"]
    );
    assert_eq!(
        users(&db, User::groups().all(Group::name().starts_with("r"))),
        ["bob", "cid", "dee"]
    );
}

#[apply(engines)]
fn composed_and_nested(engine: Engine) {
    let db = db(engine);
    // Users with a post that has a comment (two levels).
    assert_eq!(
        users(&db, User::posts().any(Post::comments().exists())),
        ["ann", "bob"]
    );
    // ... whose comments all say "ok".
    assert_eq!(
        users(
            &db,
            User::posts().any(
                Post::comments()
                    .exists()
                    .and(Post::comments().all(Comment::body().eq("ok")))
            )
        ),
        ["bob"]
    );
    // OR with a plain column condition, NOT around it.
    assert_eq!(
        users(&db, User::notes().exists().or(User::name().eq("dee"))),
        ["ann", "bob", "dee"]
    );
    assert_eq!(
        users(&db, !(User::notes().exists().or(User::name().eq("dee")))),
        ["cid"]
    );
    // A comment's post's author, three tables up.
    let tx = db.read().unwrap();
    let bodies: Vec<String> = tx
        .query::<Comment>()
        .filter(Comment::post().is(Post::author().is(User::name().eq("bob"))))
        .allow_full_scan()
        .all()
        .unwrap()
        .into_iter()
        .map(|c| c.body.clone())
        .collect();
    assert_eq!(bodies, ["ok"]);
}

#[apply(engines)]
fn inside_relation_loading_and_counts(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let all = tx
        .query::<User>()
        .with(User::posts().filter(Post::comments().exists()))
        .with_count(User::posts().filter(Post::comments().none()).named("quiet"))
        .all()
        .unwrap();
    let titles: Vec<Vec<&str>> = all
        .iter()
        .map(|u| {
            u.get(User::posts())
                .iter()
                .map(|p| p.title.as_str())
                .collect()
        })
        .collect();
    assert_eq!(titles, [vec!["a1"], vec!["b1"], vec![], vec![]]);
    let quiet: Vec<Option<usize>> = all.iter().map(|u| u.count_named("quiet")).collect();
    assert_eq!(quiet, [Some(1), Some(0), Some(0), Some(1)]);
}

#[apply(engines)]
fn limit_offset_count_and_pages_count_passing_rows(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let q = || {
        tx.query::<User>()
            .filter(User::posts().exists())
            .allow_full_scan()
    };
    assert_eq!(q().count().unwrap(), 3);
    assert!(q().exists().unwrap());
    let names = |docs: Vec<Doc<User>>| -> Vec<String> {
        docs.into_iter().map(|u| u.name.clone()).collect()
    };
    assert_eq!(names(q().limit(2).all().unwrap()), ["ann", "bob"]);
    assert_eq!(names(q().offset(1).limit(5).all().unwrap()), ["bob", "dee"]);
    assert_eq!(q().first().unwrap().unwrap().name, "ann");
    // A page of 2 holds 2 passing rows, though cid (between bob and dee) fails.
    let first = q().paginate(None, 2).unwrap();
    assert_eq!(names(first.items), ["ann", "bob"]);
    assert!(!first.is_done);
    let next = q().paginate(first.next_cursor.as_ref(), 2).unwrap();
    assert_eq!(names(next.items), ["dee"]);
    assert!(next.is_done);
    // The cursor is bound to the relation filter: the same query with `none` refuses it.
    let other = tx
        .query::<User>()
        .filter(User::posts().none())
        .allow_full_scan()
        .paginate(first.next_cursor.as_ref(), 2);
    assert!(
        matches!(other, Err(Error::InvalidCursor { .. })),
        "{other:?}"
    );
    let bogus: Cursor = "nonsense".parse().unwrap();
    assert!(q().paginate(Some(&bogus), 2).is_err());
    // iter streams the same rows.
    let streamed: Vec<String> = q()
        .iter()
        .unwrap()
        .map(|u| u.unwrap().name.clone())
        .collect();
    assert_eq!(streamed, ["ann", "bob", "dee"]);
}

#[apply(engines)]
fn explain_and_strict_mode(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let q = tx
        .query::<User>()
        .filter(
            User::name()
                .gte("b")
                .and(User::posts().any(Post::likes().gt(2))),
        )
        .filter(User::notes().exists().or(User::groups().exists()));
    assert_eq!(
        q.explain(),
        "query users\n\
         access: index by_name (1 probe), range name >= \"b\"\n\
         order: index order (ascending)\n\
         post-filter: (posts.any(likes > 2) AND (notes.exists() OR groups.exists()))\n\
         relation filter: posts.any(likes > 2): one probe of posts.by_author_id per users row, \
         related rows read and checked, each distinct key once\n\
         relation filter: notes.exists(): one probe of notes.by_user_id per users row, each \
         distinct key once\n\
         relation filter: groups.exists(): one probe of members.by_pair per users row, then \
         the groups rows it links, each distinct key once\n"
    );
    assert_eq!(
        q.all()
            .unwrap()
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
    let belongs = tx
        .query::<Post>()
        .filter(Post::author().is(User::role().eq(Role::Admin)))
        .allow_full_scan();
    assert!(
        belongs
            .explain()
            .contains("relation filter: author.is(role = Admin): one read of users per distinct foreign key, each distinct key once\n"),
        "{}",
        belongs.explain()
    );
    // Alone, a relation filter is checked on every row of the table: strict mode refuses.
    let err = tx
        .query::<User>()
        .filter(User::posts().exists())
        .all()
        .unwrap_err();
    match err {
        Error::IndexRequired {
            table,
            filter,
            suggestion,
        } => {
            assert_eq!(table, "users");
            assert_eq!(filter, "the filter posts.exists()");
            assert_eq!(
                suggestion,
                "no index of this table serves the relation filter `posts.exists()` (it is \
                 checked on each row read): add a condition an index serves beside it"
            );
        }
        other => panic!("expected IndexRequired, got {other:?}"),
    }
}

#[apply(engines)]
fn one_lookup_per_distinct_key(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    // notes is a hard-delete table: one index probe per user, no note row read.
    let q = tx
        .query::<User>()
        .filter(User::notes().exists())
        .allow_full_scan();
    let before = tx.stats();
    assert_eq!(q.count().unwrap(), 2);
    let after = tx.stats();
    assert_eq!(
        after.index_scans - before.index_scans,
        4,
        "one probe per live user"
    );
    assert_eq!(after.row_reads - before.row_reads, 0, "no note row read");
    // belongs_to: five live posts by three distinct authors — three user reads.
    let q = tx
        .query::<Post>()
        .filter(Post::author().is(User::role().eq(Role::Admin)))
        .allow_full_scan();
    let before = tx.stats();
    assert_eq!(q.count().unwrap(), 3);
    let after = tx.stats();
    assert_eq!(
        after.row_reads - before.row_reads,
        3,
        "one read per distinct author"
    );
}

#[apply(engines)]
fn bulk_writes_select_by_relation(engine: Engine) {
    let db = db(engine);
    let removed = db
        .write(|tx| {
            tx.delete_many::<User>()
                .filter(User::posts().none())
                .allow_full_scan()
                .execute()
        })
        .unwrap();
    assert_eq!(removed, 1);
    assert_eq!(users(&db, User::name().gte("")), ["ann", "bob", "dee"]);
}

#[apply(engines)]
fn nesting_is_bounded(engine: Engine) {
    let db = db(engine);
    let mut f = Post::comments().exists();
    for _ in 0..6 {
        f = Post::comments().any(Comment::post().is(f));
    }
    // 13 levels of relation filters: refused before reading anything.
    let tx = db.read().unwrap();
    let err = tx
        .query::<Post>()
        .filter(f)
        .allow_full_scan()
        .all()
        .unwrap_err();
    match err {
        Error::InvalidQuery { table, reason } => {
            assert_eq!(table, "posts");
            assert!(
                reason.starts_with("relation filters nest deeper than 10 levels"),
                "{reason}"
            );
        }
        other => panic!("expected InvalidQuery, got {other:?}"),
    }
}

#[apply(engines)]
fn plans_show_ids_as_table_and_number(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let ann = tx.query::<User>().first().unwrap().unwrap().id;
    let q = tx.query::<Post>().filter(
        Post::author_id()
            .eq(ann)
            .and(Post::editor_id().eq(Some(ann)).not()),
    );
    assert_eq!(
        q.explain(),
        "query posts\n\
         access: index by_author_id (1 probe: author_id = users:1)\n\
         order: index order (ascending)\n\
         post-filter: NOT editor_id = users:1\n"
    );
    let by_ann: Vec<String> = q.all().unwrap().iter().map(|p| p.title.clone()).collect();
    assert_eq!(by_ann, ["a1", "a2"]);
}
