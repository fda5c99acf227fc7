//! Rules: rows a viewer may not read are invisible on every surface (reads, queries and all
//! their terminals, pages and cursors, relation loading, relation filters and counts,
//! many-to-many through a join table's own rule), and writes the rules refuse leave nothing
//! behind. Two viewers, data where each sees a different subset, exact results.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use proptest::prelude::*;
use redorm::prelude::*;
use redorm::{Error, Filter, ManualClock, Rules};
use rstest_reuse::apply;

#[derive(Debug, Clone)]
struct Viewer {
    user: Id<User>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
#[has_many(posts, Post, by = author_id)]
struct User {
    #[unique]
    name: String,
}

/// Readable when published or one's own; written only by its author.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", index(by_published = [published, score]))]
#[has_many(comments, Comment, by = post_id)]
#[many_to_many(tags, Tag, through = PostTag, from = post_id, to = tag_id)]
struct Post {
    #[belongs_to(author, User, on_delete = cascade)]
    author_id: Id<User>,
    #[unique]
    slug: String,
    published: bool,
    score: i64,
}

/// Readable when its post is (a rule made of a relation filter).
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "comments")]
struct Comment {
    #[belongs_to(post, Post, on_delete = cascade)]
    post_id: Id<Post>,
    body: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "tags")]
struct Tag {
    name: String,
}

/// The join table's own rule: a hidden link is not followed.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "post_tags")]
struct PostTag {
    #[belongs_to(post, Post, on_delete = cascade)]
    post_id: Id<Post>,
    #[belongs_to(tag, Tag, on_delete = cascade)]
    tag_id: Id<Tag>,
    #[default(false)]
    hidden: bool,
}

fn visible_post(v: &Viewer) -> Filter<Post> {
    Post::published().eq(true).or(Post::author_id().eq(v.user))
}

fn builder() -> redorm::DbBuilder {
    Db::builder()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Tag>()
        .table::<PostTag>()
        .rules(
            Rules::<Post, Viewer>::new()
                .read(visible_post)
                .insert(|v, p| p.author_id == v.user)
                .update(|v, old, new| old.author_id == v.user && new.author_id == v.user)
                .delete(|v, p| p.author_id == v.user),
        )
        .rules(Rules::<Comment, Viewer>::new().read(|v| Comment::post().is(visible_post(v))))
        .rules(Rules::<PostTag, Viewer>::new().read(|_| PostTag::hidden().eq(false)))
}

/// ann: "a-pub" (score 5, published), "a-draft" (score 9); bob: "b-pub" (3), "b-draft" (7).
/// Each post has one comment; "a-pub" is tagged red and (hidden) blue, "a-draft" red.
struct Fixture {
    db: Db,
    ann: Viewer,
    bob: Viewer,
}

fn fixture(engine: Engine) -> Fixture {
    let db = builder().open_on(engine);
    let (ann, bob) = db
        .write(|tx| {
            tx.skip_rules();
            let ann = tx.insert(User { name: "ann".into() })?;
            let bob = tx.insert(User { name: "bob".into() })?;
            let red = tx.insert(Tag { name: "red".into() })?;
            let blue = tx.insert(Tag {
                name: "blue".into(),
            })?;
            for (author, slug, published, score) in [
                (ann, "a-pub", true, 5),
                (ann, "a-draft", false, 9),
                (bob, "b-pub", true, 3),
                (bob, "b-draft", false, 7),
            ] {
                let p = tx.insert(Post {
                    author_id: author,
                    slug: slug.into(),
                    published,
                    score,
                })?;
                tx.insert(Comment {
                    post_id: p,
                    body: format!("on {slug}"),
                })?;
                if slug == "a-pub" {
                    tx.insert(PostTag {
                        post_id: p,
                        tag_id: red,
                        hidden: false,
                    })?;
                    tx.insert(PostTag {
                        post_id: p,
                        tag_id: blue,
                        hidden: true,
                    })?;
                }
                if slug == "a-draft" {
                    tx.link(Post::tags(), p, red)?;
                }
            }
            Ok((ann, bob))
        })
        .unwrap();
    Fixture {
        db,
        ann: Viewer { user: ann },
        bob: Viewer { user: bob },
    }
}

fn slugs(docs: &[Doc<Post>]) -> Vec<&str> {
    docs.iter().map(|p| p.slug.as_str()).collect()
}

fn post_id(f: &Fixture, slug: &str) -> Id<Post> {
    let tx = f.db.read().unwrap().skip_rules();
    tx.get_by(Post::by_slug(), slug).unwrap().unwrap().id
}

#[apply(engines)]
fn secure_by_default(engine: Engine) {
    let f = fixture(engine);
    let tx = f.db.read().unwrap();
    let denied = |r: redorm::Result<()>| match r {
        Err(Error::Denied {
            table, operation, ..
        }) => (table, operation),
        other => panic!("expected Denied, got {other:?}"),
    };
    assert_eq!(
        denied(tx.query::<Post>().all().map(drop)),
        ("posts", "read")
    );
    assert_eq!(
        denied(tx.query::<Post>().count().map(drop)),
        ("posts", "read")
    );
    assert_eq!(
        denied(tx.get(post_id(&f, "a-pub")).map(drop)),
        ("posts", "read")
    );
    assert_eq!(
        denied(tx.get_by(Post::by_slug(), "a-pub").map(drop)),
        ("posts", "read")
    );
    // A table without rules reads as always, but not into one with rules.
    assert_eq!(tx.query::<User>().count().unwrap(), 2);
    assert_eq!(
        denied(tx.query::<User>().with(User::posts()).all().map(drop)),
        ("posts", "read")
    );
    let err = tx.query::<Post>().all().unwrap_err();
    assert_eq!(
        err.to_string(),
        "read on `posts` denied: `posts` has rules and this transaction has no viewer; begin it \
         with db.read_as(&viewer) / db.write_as(&viewer, ..), or say .skip_rules() for system work"
    );
    // Writes without a viewer: refused, nothing written.
    let err =
        f.db.write(|tx| {
            tx.insert(Post {
                author_id: f.ann.user,
                slug: "x".into(),
                published: true,
                score: 0,
            })
        })
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Denied {
            table: "posts",
            operation: "insert",
            ..
        }
    ));
    // The system sees everything.
    assert_eq!(
        f.db.read()
            .unwrap()
            .skip_rules()
            .query::<Post>()
            .count()
            .unwrap(),
        4
    );
}

#[apply(engines)]
fn each_viewer_reads_its_own_subset(engine: Engine) {
    let f = fixture(engine);
    let ann = f.db.read_as(&f.ann).unwrap();
    let bob = f.db.read_as(&f.bob).unwrap();
    let all = |tx: &redorm::ReadTx| slugs(&tx.query::<Post>().all().unwrap()).join(",");
    assert_eq!(all(&ann), "a-pub,a-draft,b-pub");
    assert_eq!(all(&bob), "a-pub,b-pub,b-draft");
    assert_eq!(ann.query::<Post>().count().unwrap(), 3);
    // by id and by unique key: the other's draft does not exist to it
    let b_draft = post_id(&f, "b-draft");
    assert!(ann.get(b_draft).unwrap().is_none());
    assert!(bob.get(b_draft).unwrap().is_some());
    assert!(ann.get_by(Post::by_slug(), "b-draft").unwrap().is_none());
    let many = ann.get_many([post_id(&f, "a-draft"), b_draft]).unwrap();
    assert_eq!(
        many.iter().map(Option::is_some).collect::<Vec<_>>(),
        [true, false]
    );
    // terminals
    let by_score = ann
        .query::<Post>()
        .order_by(Post::score().desc())
        .allow_full_scan();
    assert_eq!(
        slugs(&by_score.all().unwrap()),
        ["a-draft", "a-pub", "b-pub"]
    );
    assert_eq!(by_score.first().unwrap().unwrap().slug, "a-draft");
    assert_eq!(ann.query::<Post>().sum(Post::score()).unwrap(), 17);
    assert_eq!(bob.query::<Post>().max(Post::score()).unwrap(), Some(7));
    assert!(
        !ann.query::<Post>()
            .filter(Post::slug().eq("b-draft"))
            .exists()
            .unwrap()
    );
    let streamed: Vec<String> = bob
        .query::<Post>()
        .iter()
        .unwrap()
        .map(|p| p.unwrap().slug.clone())
        .collect();
    assert_eq!(streamed, ["a-pub", "b-pub", "b-draft"]);
    let groups = ann
        .query::<Post>()
        .group_by(Post::published())
        .count()
        .unwrap();
    assert_eq!(groups, [(false, 1), (true, 2)]);
}

#[apply(engines)]
fn pages_are_full_and_cursors_belong_to_their_viewer(engine: Engine) {
    let f = fixture(engine);
    let ann = f.db.read_as(&f.ann).unwrap();
    let bob = f.db.read_as(&f.bob).unwrap();
    fn q(tx: &redorm::ReadTx) -> redorm::Query<'_, Post> {
        tx.query::<Post>()
            .order_by(Post::score().asc())
            .allow_full_scan()
    }
    let first = q(&ann).paginate(None, 2).unwrap();
    assert_eq!(slugs(&first.items), ["b-pub", "a-pub"]);
    let rest = q(&ann).paginate(first.next_cursor.as_ref(), 2).unwrap();
    assert_eq!(slugs(&rest.items), ["a-draft"]);
    assert!(rest.is_done);
    // ann's cursor, given to bob's query, is refused: it reveals nothing of ann's rows.
    let stolen = q(&bob).paginate(first.next_cursor.as_ref(), 2);
    assert!(
        matches!(stolen, Err(Error::InvalidCursor { .. })),
        "{stolen:?}"
    );
    let explain = q(&ann).explain();
    assert!(
        explain.contains(
            "rule: the viewer's read rule (published = true OR author_id = users:1) is part of the filter\n"
        ),
        "{explain}"
    );
}

#[apply(engines)]
fn relations_never_show_a_hidden_row(engine: Engine) {
    let f = fixture(engine);
    let ann = f.db.read_as(&f.ann).unwrap();
    let users = ann
        .query::<User>()
        .with(User::posts().with(Post::comments()))
        .with_count(User::posts())
        .all()
        .unwrap();
    let seen: Vec<(String, Vec<&str>, Option<usize>)> = users
        .iter()
        .map(|u| {
            (
                u.name.clone(),
                slugs(u.get(User::posts())),
                u.count(User::posts()),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("ann".to_string(), vec!["a-pub", "a-draft"], Some(2)),
            ("bob".to_string(), vec!["b-pub"], Some(1)),
        ]
    );
    for u in &users {
        for p in u.get(User::posts()) {
            let bodies: Vec<&str> = p
                .get(Post::comments())
                .iter()
                .map(|c| c.body.as_str())
                .collect();
            assert_eq!(bodies, [format!("on {}", p.slug)]);
        }
    }
    // Comments' rule is a relation filter on their post: ann sees three of four.
    let bodies: Vec<String> = ann
        .query::<Comment>()
        .allow_full_scan()
        .with(Comment::post())
        .all()
        .unwrap()
        .into_iter()
        .map(|c| {
            assert!(c.get(Comment::post()).is_some());
            c.body.clone()
        })
        .collect();
    assert_eq!(bodies, ["on a-pub", "on a-draft", "on b-pub"]);
    // A relation filter does not find the hidden draft.
    let with_drafts: Vec<String> = ann
        .query::<User>()
        .filter(User::posts().any(Post::published().eq(false)))
        .allow_full_scan()
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.name.clone())
        .collect();
    assert_eq!(with_drafts, ["ann"]);
    // many-to-many: the hidden join row is not followed; bob does not see a-draft's link.
    let tags = |tx: &redorm::ReadTx, slug: &str| -> Vec<String> {
        let p = tx.get_by(Post::by_slug(), slug).unwrap().unwrap();
        tx.load(&p, Post::tags())
            .unwrap()
            .into_iter()
            .map(|t| t.name.clone())
            .collect()
    };
    assert_eq!(tags(&ann, "a-pub"), ["red"]);
    assert_eq!(tags(&ann, "a-draft"), ["red"]);
    let system = f.db.read().unwrap().skip_rules();
    assert_eq!(tags(&system, "a-pub"), ["red", "blue"]);
    let bob = f.db.read_as(&f.bob).unwrap();
    let red_posts = bob
        .query::<Tag>()
        .filter(Tag::name().eq("red"))
        .allow_full_scan()
        .first()
        .unwrap()
        .unwrap();
    assert_eq!(red_posts.name, "red");
    assert!(bob.get_by(Post::by_slug(), "a-draft").unwrap().is_none());
}

#[apply(engines)]
fn refused_writes_leave_nothing(engine: Engine) {
    let f = fixture(engine);
    let before =
        f.db.read()
            .unwrap()
            .skip_rules()
            .query::<Post>()
            .all()
            .unwrap();
    let a_pub = post_id(&f, "a-pub");
    let b_draft = post_id(&f, "b-draft");
    let denied = |r: redorm::Result<()>| match r {
        Err(Error::Denied { operation, .. }) => operation,
        other => panic!("expected Denied, got {other:?}"),
    };
    // insert as someone else
    assert_eq!(
        denied(f.db.write_as(&f.bob, |tx| {
            tx.insert(Post {
                author_id: f.ann.user,
                slug: "forged".into(),
                published: true,
                score: 1,
            })
            .map(drop)
        })),
        "insert"
    );
    // update another's visible post; move one's own post to someone else
    assert_eq!(
        denied(f.db.write_as(&f.bob, |tx| tx.patch(a_pub, |p| p.score = 100))),
        "update"
    );
    assert_eq!(
        denied(f.db.write_as(&f.ann, |tx| tx.patch(a_pub, |p| p.author_id = f.bob.user))),
        "update"
    );
    // delete another's visible post
    assert_eq!(
        denied(f.db.write_as(&f.bob, |tx| tx.delete(a_pub))),
        "delete"
    );
    // a post the viewer cannot see does not exist to it
    let hidden = f.db.write_as(&f.ann, |tx| tx.delete(b_draft));
    assert!(
        matches!(hidden, Err(Error::NotFound { table: "posts", .. })),
        "{hidden:?}"
    );
    // bulk writes select only visible rows, and refuse when one is not the viewer's
    assert_eq!(
        denied(f.db.write_as(&f.bob, |tx| {
            tx.update::<Post>().all().set(|p| p.score += 1).map(drop)
        })),
        "update"
    );
    let after =
        f.db.read()
            .unwrap()
            .skip_rules()
            .query::<Post>()
            .all()
            .unwrap();
    assert_eq!(after, before);
    // allowed writes go through, and a refused call inside a transaction that handles the
    // error leaves the rest to commit
    f.db.write_as(&f.ann, |tx| {
        tx.patch(a_pub, |p| p.score = 6)?;
        assert!(tx.delete(post_id(&f, "b-pub")).is_err());
        Ok(())
    })
    .unwrap();
    let system = f.db.read().unwrap().skip_rules();
    assert_eq!(system.get(a_pub).unwrap().unwrap().score, 6);
    assert_eq!(system.query::<Post>().count().unwrap(), 4);
    // a cascade from a user's delete is the schema's: bob's draft goes with bob
    f.db.write_as(&f.ann, |tx| tx.delete(f.bob.user)).unwrap();
    let left =
        f.db.read()
            .unwrap()
            .skip_rules()
            .query::<Post>()
            .all()
            .unwrap();
    assert_eq!(slugs(&left), ["a-pub", "a-draft"]);
}

#[apply(engines)]
fn links_follow_the_join_tables_rules(engine: Engine) {
    let db = Db::builder()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Tag>()
        .table::<PostTag>()
        .rules(
            Rules::<PostTag, Viewer>::new()
                .insert(|_, link| !link.hidden)
                .delete(|_, _| false),
        )
        .open_on(engine);
    let (viewer, post, red) = db
        .write(|tx| {
            tx.skip_rules();
            let u = tx.insert(User { name: "u".into() })?;
            let post = tx.insert(Post {
                author_id: u,
                slug: "p".into(),
                published: true,
                score: 0,
            })?;
            let red = tx.insert(Tag { name: "red".into() })?;
            Ok((Viewer { user: u }, post, red))
        })
        .unwrap();
    db.write_as(&viewer, |tx| tx.link(Post::tags(), post, red).map(drop))
        .unwrap();
    let err = db
        .write_as(&viewer, |tx| tx.unlink(Post::tags(), post, red).map(drop))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Denied {
            table: "post_tags",
            operation: "delete",
            ..
        }
    ));
    let tx = db.read_as(&viewer).unwrap();
    assert_eq!(
        tx.load(&tx.get(post).unwrap().unwrap(), Post::tags())
            .unwrap()
            .len(),
        1
    );
}

#[apply(engines)]
fn bad_rules_and_viewers(engine: Engine) {
    // A panicking rule: an error naming the table and rule; the database goes on.
    let db = Db::builder()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Tag>()
        .table::<PostTag>()
        .rules(Rules::<Post, Viewer>::new().insert(|_, p| {
            assert!(p.score >= 0, "negative score");
            true
        }))
        .open_on(engine);
    let u = db.write(|tx| tx.insert(User { name: "u".into() })).unwrap();
    let viewer = Viewer { user: u };
    let post = |score| Post {
        author_id: u,
        slug: format!("s{score}"),
        published: true,
        score,
    };
    let err = db
        .write_as(&viewer, |tx| tx.insert(post(-1)).map(drop))
        .unwrap_err();
    match &err {
        Error::RulePanicked {
            table,
            rule,
            message,
        } => {
            assert_eq!(
                (*table, *rule, message.as_str()),
                ("posts", "insert", "negative score")
            );
        }
        other => panic!("expected RulePanicked, got {other:?}"),
    }
    db.write_as(&viewer, |tx| tx.insert(post(1)).map(drop))
        .unwrap();
    assert_eq!(
        db.read()
            .unwrap()
            .skip_rules()
            .query::<Post>()
            .count()
            .unwrap(),
        1
    );
    // A viewer of another type.
    let err = db.read_as(&"someone").unwrap_err();
    assert!(
        err.to_string()
            .contains("take a viewer of type `rules::Viewer`, not `&str`"),
        "{err}"
    );
    // Rules for a table that is not registered: refused at open.
    let err = Db::builder()
        .table::<Tag>()
        .rules(Rules::<Post, Viewer>::new())
        .try_open_on(engine)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Schema { table, .. } if table == "posts"),
        "{err}"
    );
}

#[apply(engines)]
fn hooks_see_the_viewer(engine: Engine) {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let log = seen.clone();
    let db = Db::builder()
        .table::<Tag>()
        .before_insert::<Tag>(move |tx, tag| {
            log.lock().unwrap().push(
                tx.viewer::<String>()
                    .map(|v| format!("{v} adds {}", tag.name)),
            );
            Ok(())
        })
        .rules(Rules::<Tag, String>::new())
        .open_on(engine);
    db.write_as(&"ann".to_string(), |tx| {
        tx.insert(Tag { name: "red".into() }).map(drop)
    })
    .unwrap();
    db.write(|tx| {
        tx.skip_rules();
        tx.insert(Tag {
            name: "blue".into(),
        })
        .map(drop)
    })
    .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [Some("ann adds red".to_string()), None]
    );
    let tx = db.read_as(&"bob".to_string()).unwrap();
    assert_eq!(tx.viewer::<String>().map(String::as_str), Some("bob"));
    assert_eq!(tx.viewer::<u32>(), None);
}

#[test]
fn scheduled_jobs_run_as_the_system() {
    #[derive(Table, Debug, Clone)]
    #[table(name = "drafts", delete = scheduled(delay = "1d"))]
    struct Draft {
        owner: u32,
    }
    #[derive(Clone)]
    struct Who(u32);
    let clock = ManualClock::new(1_700_000_000_000);
    let db = Db::builder()
        .table::<Draft>()
        .clock(clock.clone())
        .rules(Rules::<Draft, Who>::new().read(|w| Draft::owner().eq(w.0)))
        .in_memory()
        .unwrap();
    let id = db
        .write_as(&Who(1), |tx| tx.insert(Draft { owner: 1 }))
        .unwrap();
    db.write_as(&Who(1), |tx| tx.delete(id)).unwrap();
    clock.advance(std::time::Duration::from_secs(2 * 86_400));
    let report = db.run_due_jobs().unwrap();
    assert_eq!(report.completed, 1);
    let tx = db.read().unwrap().skip_rules();
    assert!(tx.get_including_deleted(id).unwrap().is_none());
}

// ---- property: 0 leaked rows ------------------------------------------------------------------

fn model_visible(rows: &[(u64, bool, i64)], viewer: u64) -> Vec<usize> {
    (0..rows.len())
        .filter(|&i| rows[i].1 || rows[i].0 == viewer)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random posts, a random viewer and query shape (filter, order, page size): walking every
    /// page returns exactly the rows the model shows that viewer, in order; relation loading
    /// and counts agree.
    #[test]
    fn a_viewer_sees_exactly_what_the_rule_allows(
        rows in prop::collection::vec((0u64..3, any::<bool>(), -5i64..5), 0..25),
        viewer in 0u64..3,
        min_score in prop::option::of(-5i64..5),
        desc in any::<bool>(),
        page in 1usize..5,
    ) {
        let db = builder().in_memory().unwrap();
        let users: Vec<Id<User>> = db.write(|tx| {
            tx.skip_rules();
            let users: Vec<Id<User>> = (0..3)
                .map(|i| tx.insert(User { name: format!("u{i}") }))
                .collect::<redorm::Result<_>>()?;
            for (i, (author, published, score)) in rows.iter().enumerate() {
                tx.insert(Post {
                    author_id: users[*author as usize],
                    slug: format!("p{i}"),
                    published: *published,
                    score: *score,
                })?;
            }
            Ok(users)
        }).unwrap();
        let v = Viewer { user: users[viewer as usize] };
        // the model: ids are positions + 1; ordered by score then id in the last key's direction
        let mut want: Vec<usize> = model_visible(&rows, viewer)
            .into_iter()
            .filter(|&i| min_score.is_none_or(|m| rows[i].2 >= m))
            .collect();
        want.sort_by_key(|&i| (rows[i].2, i));
        if desc {
            want.reverse();
        }
        let want: Vec<String> = want.iter().map(|i| format!("p{i}")).collect();

        let tx = db.read_as(&v).unwrap();
        let mut q = tx.query::<Post>().allow_full_scan();
        if let Some(m) = min_score {
            q = q.filter(Post::score().gte(m));
        }
        q = q.order_by(if desc { Post::score().desc() } else { Post::score().asc() });
        let mut got = Vec::new();
        let mut cursor = None;
        for _ in 0..=rows.len() {
            let p = q.paginate(cursor.as_ref(), page).unwrap();
            prop_assert!(p.items.len() == page || p.is_done);
            got.extend(p.items.iter().map(|d| d.slug.clone()));
            if p.is_done {
                break;
            }
            cursor = p.next_cursor;
        }
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(q.count().unwrap(), want.len());

        let loaded = tx.query::<User>().with(User::posts()).with_count(User::posts()).all().unwrap();
        for (u, doc) in loaded.iter().enumerate() {
            let expect: Vec<String> = model_visible(&rows, viewer)
                .into_iter()
                .filter(|&i| rows[i].0 == u as u64)
                .map(|i| format!("p{i}"))
                .collect();
            let seen: Vec<String> = doc.get(User::posts()).iter().map(|p| p.slug.clone()).collect();
            prop_assert_eq!(doc.count(User::posts()), Some(expect.len()));
            prop_assert_eq!(seen, expect);
        }
    }
}
