//! The redorm tour: creates a database in a temporary directory and walks through tables,
//! writes, unique constraints, queries, cursor pagination, relations loaded as a tree,
//! cascading, soft and scheduled deletion, and hooks — printing what each step did.
//!
//! Run it with `cargo run --example blog`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redorm::prelude::*;
use redorm::{Cursor, Error, ManualClock};

#[derive(Column, Debug, Clone, Copy, PartialEq)]
enum Role {
    Member,
    Admin,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", delete = soft)]
#[has_many(posts, Post, by = author_id)]
#[has_many(memberships, Membership, by = user_id)]
struct User {
    #[unique]
    email: String,
    name: String,
    role: Role,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", index(by_author_created = [author_id, created]))]
#[has_many(comments, Comment, by = post_id)]
#[many_to_many(tags, Tag, through = PostTag, from = post_id, to = tag_id)]
struct Post {
    #[belongs_to(author, User, on_delete = cascade, on_soft_delete = cascade)]
    author_id: Id<User>,
    #[index]
    title: String,
    published: bool,
    created: i64,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "comments")]
struct Comment {
    #[belongs_to(post, Post, on_delete = cascade, on_soft_delete = cascade)]
    post_id: Id<Post>,
    body: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "tags")]
struct Tag {
    #[unique]
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "post_tags", unique(by_pair = [post_id, tag_id]))]
struct PostTag {
    #[belongs_to(post, Post, on_delete = cascade)]
    post_id: Id<Post>,
    #[belongs_to(tag, Tag, on_delete = cascade)]
    tag_id: Id<Tag>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "groups")]
struct Group {
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "memberships")]
struct Membership {
    #[belongs_to(user, User, on_delete = cascade)]
    user_id: Id<User>,
    #[belongs_to(group, Group, on_delete = cascade)]
    group_id: Id<Group>,
    role: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "uploads", delete = scheduled(delay = "30d"))]
struct Upload {
    #[belongs_to(owner, User, on_delete = cascade)]
    owner_id: Id<User>,
    file: String,
}

fn main() -> Result<(), Error> {
    let dir = tempfile::tempdir().map_err(|e| Error::Schema {
        table: "-".into(),
        message: format!("cannot make a temporary directory: {e}"),
    })?;
    let path = dir.path().join("blog.redb");
    let clock = ManualClock::new(1_700_000_000_000);
    let deleted_log: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = deleted_log.clone();
    let db = Db::builder()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Tag>()
        .table::<PostTag>()
        .table::<Group>()
        .table::<Membership>()
        .table::<Upload>()
        .clock(clock.clone())
        .after_delete::<Comment>(move |_tx, doc, cause| {
            if let Ok(mut l) = log.lock() {
                l.push(format!("{:?} ({cause:?})", doc.body));
            }
            Ok(())
        })
        .open(&path)?;
    println!("== opened {}", path.display());

    // ---- writes -------------------------------------------------------------------------------
    let (alice, bob) = db.write(|tx| {
        let alice = tx.insert(User {
            email: "alice@example.com".into(),
            name: "Alice".into(),
            role: Role::Admin,
        })?;
        let bob = tx.insert(User {
            email: "bob@example.com".into(),
            name: "Bob".into(),
            role: Role::Member,
        })?;
        let rust = tx.insert(Tag {
            name: "rust".into(),
        })?;
        let db_tag = tx.insert(Tag {
            name: "databases".into(),
        })?;
        let rustaceans = tx.insert(Group {
            name: "rustaceans".into(),
        })?;
        tx.insert(Membership {
            user_id: alice,
            group_id: rustaceans,
            role: "owner".into(),
        })?;
        tx.insert(Membership {
            user_id: bob,
            group_id: rustaceans,
            role: "member".into(),
        })?;
        let posts = [
            (alice, "Hello redb", true, vec![rust, db_tag]),
            (alice, "Typed ids", true, vec![rust]),
            (bob, "Cursor pagination", true, vec![db_tag]),
            (alice, "Drafts are private", false, vec![]),
        ];
        for (i, (author, title, published, tags)) in posts.into_iter().enumerate() {
            let post = tx.insert(Post {
                author_id: author,
                title: title.into(),
                published,
                created: 100 + i as i64,
            })?;
            for tag in tags {
                tx.insert(PostTag {
                    post_id: post,
                    tag_id: tag,
                })?;
            }
            for k in 0..2 {
                tx.insert(Comment {
                    post_id: post,
                    body: format!("comment {k} on {title}"),
                })?;
            }
        }
        tx.insert(Upload {
            owner_id: bob,
            file: "avatar.png".into(),
        })?;
        Ok((alice, bob))
    })?;
    println!(
        "inserted users {alice} and {bob}, 4 posts with tags and comments, 2 memberships, 1 upload"
    );

    let tx = db.read()?;
    let found = tx.get(alice)?.ok_or(Error::NotFound {
        table: "users",
        id: alice.get(),
    })?;
    println!(
        "get({alice}) -> {} <{}> {:?}",
        found.name, found.email, found.role
    );
    println!(
        "get_by(by_email, \"bob@example.com\") -> {:?}",
        tx.get_by(User::by_email(), "bob@example.com")?
            .map(|d| d.id)
    );
    drop(tx);

    match db.write(|tx| {
        tx.insert(User {
            email: "alice@example.com".into(),
            name: "Impostor".into(),
            role: Role::Member,
        })
    }) {
        Err(e @ Error::Unique { .. }) => println!("refused: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    // ---- queries ------------------------------------------------------------------------------
    println!("\n== queries");
    let tx = db.read()?;
    let q = tx
        .query::<Post>()
        .filter(Post::author_id().eq(alice).and(Post::published().eq(true)))
        .order_by(Post::created().desc());
    println!("plan:\n{}", indent(&q.explain()));
    for post in q.all()? {
        println!("  {} {:?}", post.id, post.title);
    }
    match tx.query::<Post>().filter(Post::published().eq(false)).all() {
        Err(err) => println!("strict mode: {err}"),
        Ok(rows) => println!("unexpected: {} rows without an index", rows.len()),
    }
    let mut cursor: Option<Cursor> = None;
    for n in 1.. {
        let page = tx
            .query::<Post>()
            .order_by(Post::title().asc())
            .paginate(cursor.as_ref(), 3)?;
        let titles: Vec<&str> = page.items.iter().map(|p| p.title.as_str()).collect();
        println!("page {n}: {titles:?}");
        if page.is_done {
            break;
        }
        cursor = page.next_cursor;
    }

    // ---- relations ----------------------------------------------------------------------------
    println!("\n== relations, loaded with nested `with` (one index probe per key per level)");
    let users = tx
        .query::<User>()
        .with(
            User::posts()
                .filter(Post::published().eq(true))
                .order_by(Post::created().asc())
                .with(Post::comments().limit(1))
                .with(Post::tags()),
        )
        .with(User::memberships().with(Membership::group()))
        .all()?;
    for user in &users {
        let groups: Vec<String> = user
            .get(User::memberships())
            .iter()
            .filter_map(|m| {
                m.get(Membership::group())
                    .map(|g| format!("{} ({})", g.name, m.role))
            })
            .collect();
        println!("{} — groups: {}", user.name, groups.join(", "));
        for post in user.get(User::posts()) {
            let tags: Vec<&str> = post
                .get(Post::tags())
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            println!("  └ {:?} tags {:?}", post.title, tags);
            for c in post.get(Post::comments()) {
                println!("      └ {:?}", c.body);
            }
        }
    }
    println!("storage reads for that load: {:?}", tx.stats());
    drop(tx);

    // ---- deleting -----------------------------------------------------------------------------
    println!("\n== a hard delete cascades: deleting the post \"Typed ids\"");
    let typed = db
        .read()?
        .query::<Post>()
        .filter(Post::title().eq("Typed ids"))
        .first_or_err()?
        .id;
    db.write(|tx| tx.delete(typed))?;
    println!(
        "comments deleted (seen by an after_delete hook): {:?}",
        take(&deleted_log)
    );
    println!(
        "join rows left for it: {}",
        db.read()?
            .query::<PostTag>()
            .filter(PostTag::post_id().eq(typed))
            .count()?
    );

    println!("\n== a soft delete, then undelete: users are `delete = soft`");
    db.write(|tx| tx.delete(alice))?;
    let tx = db.read()?;
    println!(
        "after deleting alice: get -> {:?}; visible posts: {}; soft-deleted posts: {}",
        tx.get(alice)?.map(|d| d.id),
        tx.query::<Post>().count()?,
        tx.query::<Post>().only_deleted().count()?
    );
    drop(tx);
    db.write(|tx| tx.undelete(alice))?;
    println!(
        "after undelete: get -> {:?}; visible posts: {}",
        db.read()?.get(alice)?.map(|d| d.id),
        db.read()?.query::<Post>().count()?
    );

    println!("\n== scheduled deletion: uploads are `delete = scheduled(delay = \"30d\")`");
    let upload = db.read()?.query::<Upload>().first_or_err()?.id;
    db.write(|tx| tx.delete(upload))?;
    println!(
        "deleted {upload}: hidden now, purged later; jobs due today: {:?}",
        db.run_due_jobs()?
    );
    clock.advance(Duration::from_secs(30 * 24 * 3600));
    let report = db.run_due_jobs()?;
    println!("30 days later: {report:?}");
    println!(
        "{upload} still stored: {}",
        db.read()?.get_including_deleted(upload)?.is_some()
    );

    println!("\n== deleting bob cascades to his posts, their comments, tags links and memberships");
    db.write(|tx| tx.hard_delete(bob))?;
    let tx = db.read()?;
    println!(
        "users {}, posts {}, comments {}, post_tags {}, memberships {}, tags {} (tags stay)",
        tx.query::<User>().count()?,
        tx.query::<Post>().count()?,
        tx.query::<Comment>().count()?,
        tx.query::<PostTag>().count()?,
        tx.query::<Membership>().count()?,
        tx.query::<Tag>().count()?
    );
    println!("comments the hook saw go: {}", take(&deleted_log).len());
    Ok(())
}

fn take(log: &Mutex<Vec<String>>) -> Vec<String> {
    log.lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}\n"))
        .collect::<String>()
        .trim_end()
        .to_string()
}
