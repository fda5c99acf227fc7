//! The redorm tour: opens a database in a temporary directory, writes and reads rows, shows a
//! unique violation being refused, queries with the planner, and pages with a cursor.
//!
//! Run it with `cargo run --bin blog`.

use redorm::prelude::*;
use redorm::{Cursor, Error};

#[derive(Column, Debug, Clone, Copy, PartialEq)]
enum Role {
    Member,
    Admin,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
struct User {
    #[unique]
    email: String,
    name: String,
    role: Role,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", index(by_author_created = [author_id, created]))]
struct Post {
    author_id: Id<User>,
    #[index]
    title: String,
    published: bool,
    created: i64,
    tags: Vec<String>,
}

fn main() -> Result<(), Error> {
    let dir = tempfile::tempdir().map_err(|e| Error::Schema {
        table: "-".into(),
        message: format!("cannot make a temporary directory: {e}"),
    })?;
    let path = dir.path().join("blog.redb");
    let db = Db::builder().table::<User>().table::<Post>().open(&path)?;
    println!("opened {}", path.display());

    // Writes: one transaction, committed when the closure returns Ok.
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
        for (i, title) in [
            "Hello redb",
            "Typed ids",
            "Cursor pagination",
            "Strict queries",
        ]
        .into_iter()
        .enumerate()
        {
            let author = if i % 2 == 0 { alice } else { bob };
            tx.insert(Post {
                author_id: author,
                title: title.into(),
                published: i != 3,
                created: 100 + i as i64,
                tags: vec!["rust".into()],
            })?;
        }
        Ok((alice, bob))
    })?;
    println!("inserted users {alice} and {bob}, and 4 posts");

    // Reads: a snapshot.
    let tx = db.read()?;
    let found = tx.get(alice)?.ok_or(Error::NotFound {
        table: "users",
        id: alice.get(),
    })?;
    println!(
        "get({alice}) -> {} <{}> ({:?}), created_at {}",
        found.name, found.email, found.role, found.created_at
    );
    let by_mail = tx.get_by(User::by_email(), "bob@example.com")?;
    println!(
        "get_by(by_email, \"bob@example.com\") -> {:?}",
        by_mail.map(|d| d.id)
    );
    drop(tx);

    // A unique violation is refused, and the transaction keeps nothing of it.
    let refused = db.write(|tx| {
        tx.insert(User {
            email: "alice@example.com".into(),
            name: "Impostor".into(),
            role: Role::Member,
        })
    });
    match refused {
        Err(e @ Error::Unique { .. }) => println!("refused: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    // patch: read-modify-write one row; the unique index moves with it.
    db.write(|tx| tx.patch(bob, |u| u.email = "robert@example.com".into()))?;
    let tx = db.read()?;
    println!(
        "after patch: old email finds {:?}, new email finds {:?}",
        tx.get_by(User::by_email(), "bob@example.com")?
            .map(|d| d.id),
        tx.get_by(User::by_email(), "robert@example.com")?
            .map(|d| d.id)
    );

    // Queries: typed filters, a predictable plan.
    let q = tx
        .query::<Post>()
        .filter(Post::author_id().eq(alice).and(Post::published().eq(true)))
        .order_by(Post::created().desc());
    println!("plan:\n{}", indent(&q.explain()));
    for post in q.all()? {
        println!("  {} {:?} (created {})", post.id, post.title, post.created);
    }
    println!(
        "posts by {alice}: {}; titles starting with \"C\": {}",
        tx.query::<Post>()
            .filter(Post::author_id().eq(alice))
            .count()?,
        tx.query::<Post>()
            .filter(Post::title().starts_with("C"))
            .count()?
    );

    // Strict mode: a filter no index serves is an error that says which index to add.
    match tx.query::<Post>().filter(Post::published().eq(false)).all() {
        Err(err) => println!("strict mode: {err}"),
        Ok(rows) => println!("unexpected: {} rows without an index", rows.len()),
    }

    // Cursor pagination: two posts a page, in title order (served by the title index).
    let mut cursor: Option<Cursor> = None;
    let mut n = 1;
    loop {
        let page = tx
            .query::<Post>()
            .order_by(Post::title().asc())
            .paginate(cursor.as_ref(), 2)?;
        let titles: Vec<&str> = page.items.iter().map(|p| p.title.as_str()).collect();
        println!("page {n}: {titles:?}");
        if page.is_done {
            break;
        }
        cursor = page.next_cursor;
        n += 1;
    }
    drop(tx);

    // Delete: the row and its index entries go.
    let first_post = Id::<Post>::from_raw(1);
    db.write(|tx| tx.delete(first_post))?;
    println!(
        "deleted {first_post}; {} posts left",
        db.read()?.query::<Post>().count()?
    );
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}\n"))
        .collect::<String>()
        .trim_end()
        .to_string()
}
