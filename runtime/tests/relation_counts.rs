//! Relation counts: `with_count` gives each row the number of its related rows without loading
//! them — exact counts with filters, soft-deleted rows and many-to-many, and what is read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use redorm::prelude::*;
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
#[has_many(posts, Post, by = author_id)]
#[has_many(notes, Note, by = user_id)]
#[many_to_many(groups, Group, through = Member, from = user_id, to = group_id)]
struct User {
    name: String,
}

/// Soft-deleted posts stay in the file; counts skip them unless asked.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", delete = soft)]
struct Post {
    #[belongs_to(author, User, on_delete = cascade)]
    author_id: Id<User>,
    published: bool,
}

/// A hard-delete child: its index keys alone give the count.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "notes")]
struct Note {
    #[belongs_to(user, User, on_delete = cascade)]
    user_id: Id<User>,
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

fn db(engine: Engine) -> Db {
    let db = Db::builder()
        .table::<User>()
        .table::<Post>()
        .table::<Note>()
        .table::<Group>()
        .table::<Member>()
        .open_on(engine);
    db.write(|tx| {
        let ann = tx.insert(User { name: "ann".into() })?;
        let bob = tx.insert(User { name: "bob".into() })?;
        tx.insert(User { name: "cid".into() })?;
        for (author, published) in [(ann, true), (ann, false), (bob, true), (ann, true)] {
            tx.insert(Post {
                author_id: author,
                published,
            })?;
        }
        let gone = tx.insert(Post {
            author_id: ann,
            published: true,
        })?;
        tx.delete(gone)?;
        for user in [ann, ann, bob] {
            tx.insert(Note { user_id: user })?;
        }
        let g: Vec<Id<Group>> = ["a", "b", "c"]
            .iter()
            .map(|n| {
                tx.insert(Group {
                    name: n.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        for (u, grp) in [(ann, g[0]), (ann, g[1]), (ann, g[2]), (bob, g[1])] {
            tx.insert(Member {
                user_id: u,
                group_id: grp,
            })?;
        }
        tx.delete(g[2])?; // a soft-deleted group links nothing
        Ok(())
    })
    .unwrap();
    db
}

fn counts(users: &[Doc<User>], f: impl Fn(&Doc<User>) -> Option<usize>) -> Vec<Option<usize>> {
    users.iter().map(f).collect()
}

#[apply(engines)]
fn counts_per_row_with_filters_soft_deletes_and_many_to_many(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let users = tx
        .query::<User>()
        .with_count(User::posts())
        .with_count(User::posts().include_deleted().named("all_posts"))
        .with_count(
            User::posts()
                .filter(Post::published().eq(true))
                .named("published"),
        )
        .with_count(User::notes())
        .with_count(User::groups())
        .all()
        .unwrap();
    assert_eq!(
        counts(&users, |u| u.count(User::posts())),
        [Some(3), Some(1), Some(0)]
    );
    assert_eq!(
        counts(&users, |u| u.count_named("all_posts")),
        [Some(4), Some(1), Some(0)]
    );
    assert_eq!(
        counts(&users, |u| u.count_named("published")),
        [Some(2), Some(1), Some(0)]
    );
    assert_eq!(
        counts(&users, |u| u.count(User::notes())),
        [Some(2), Some(1), Some(0)]
    );
    assert_eq!(
        counts(&users, |u| u.count(User::groups())),
        [Some(2), Some(1), Some(0)]
    );
    let q = tx
        .query::<User>()
        .with(User::posts().limit(2))
        .with_count(User::notes())
        .with_count(User::posts().filter(Post::published().eq(true)));
    assert_eq!(
        q.explain(),
        "query users\naccess: table scan in id order\norder: by id\n\
         with: posts (posts, limit 2)\n\
         with: count of notes (notes, one index probe per parent, rows not loaded)\n\
         with: count of posts (posts, where published = true, related rows read to count them)\n"
    );
    // Not counted: None; and counting loads no rows.
    assert_eq!(users[0].count_named("nothing"), None);
    assert!(users[0].try_get(User::posts()).is_none());
    // The same numbers as loading the rows.
    let loaded = tx
        .query::<User>()
        .with(User::posts())
        .with(User::groups())
        .all()
        .unwrap();
    for (l, c) in loaded.iter().zip(&users) {
        assert_eq!(Some(l.get(User::posts()).len()), c.count(User::posts()));
        assert_eq!(Some(l.get(User::groups()).len()), c.count(User::groups()));
    }
    // order_by and limit do not change a count.
    let users = tx
        .query::<User>()
        .with_count(User::posts().order_by(Post::published().asc()).limit(1))
        .all()
        .unwrap();
    assert_eq!(users[0].count(User::posts()), Some(3));
}

#[apply(engines)]
fn counts_are_batched_and_read_keys_only_where_keys_decide(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let mut users = tx.query::<User>().all().unwrap();
    // A hard child table, no filter: one probe per parent, no row read.
    let before = tx.stats();
    tx.load_into(&mut users, User::notes().counted()).unwrap();
    let after = tx.stats();
    assert_eq!(after.index_scans - before.index_scans, 3);
    assert_eq!(after.row_reads - before.row_reads, 0);
    assert_eq!(
        counts(&users, |u| u.count(User::notes())),
        [Some(2), Some(1), Some(0)]
    );
    // A soft-delete child table: the row headers of the 5 posts, still one probe per parent.
    let before = tx.stats();
    tx.load_into(&mut users, User::posts().counted()).unwrap();
    let after = tx.stats();
    assert_eq!(after.index_scans - before.index_scans, 3);
    assert_eq!(after.row_reads - before.row_reads, 5);
    // include_deleted on it: keys decide again.
    let before = tx.stats();
    tx.load_into(&mut users, User::posts().include_deleted().counted())
        .unwrap();
    assert_eq!(tx.stats().row_reads - before.row_reads, 0);
    assert_eq!(users[0].count(User::posts()), Some(4));
}
