//! Where users look: ids in their string form (`users:1`) in `Debug` of `Doc` and in error
//! messages, and panicking accessors that point at the caller's line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use redorm::Error;
use redorm::prelude::*;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
#[has_many(posts, Post, by = author_id)]
struct User {
    #[unique]
    email: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts")]
struct Post {
    #[belongs_to(author, User, on_delete = restrict)]
    author_id: Id<User>,
    #[index]
    title: String,
}

fn db() -> Db {
    Db::builder()
        .table::<User>()
        .table::<Post>()
        .in_memory()
        .unwrap()
}

#[test]
fn debug_of_doc_shows_the_id_as_table_colon_number() {
    let db = db();
    let id = db
        .write(|tx| {
            tx.insert(User {
                email: "a@x".into(),
            })
        })
        .unwrap();
    let doc = db.read().unwrap().get(id).unwrap().unwrap();
    let created = doc.created_at;
    assert_eq!(
        format!("{doc:?}"),
        format!("Doc {{ id: users:1, created_at: {created}, value: User {{ email: \"a@x\" }} }}")
    );
}

#[test]
fn error_messages_name_rows_as_table_colon_number() {
    let db = db();
    let ann = db
        .write(|tx| {
            tx.insert(User {
                email: "a@x".into(),
            })
        })
        .unwrap();
    db.write(|tx| {
        tx.insert(Post {
            author_id: ann,
            title: "t".into(),
        })
    })
    .unwrap();

    let missing = Id::<User>::from_raw(9);
    let err = db
        .write(|tx| tx.patch(missing, |u| u.email = "b@x".into()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table `users` has no row users:9; check the id, or whether the row was deleted"
    );

    let err = db
        .write(|tx| {
            tx.insert(User {
                email: "a@x".into(),
            })
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unique index `users.by_email` already holds \"a@x\" (row users:1); use a different \
         value, or update the existing row instead"
    );

    let err = db.write(|tx| tx.delete(ann)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot delete users:1: 1 row(s) of `posts`"),
        "{err}"
    );

    db.write(|tx| {
        tx.insert(Post {
            author_id: ann,
            title: "t".into(),
        })
    })
    .unwrap();
    let err = db
        .read()
        .unwrap()
        .query::<Post>()
        .filter(Post::title().eq("t"))
        .unique()
        .unwrap_err();
    assert!(matches!(err, Error::NotUnique { .. }));
    assert!(
        err.to_string().contains("(rows posts:1 and posts:2)"),
        "{err}"
    );
}

#[test]
fn doc_get_of_a_relation_not_loaded_panics_at_the_callers_line() {
    let db = db();
    let id = db
        .write(|tx| {
            tx.insert(User {
                email: "a@x".into(),
            })
        })
        .unwrap();
    let doc = db.read().unwrap().get(id).unwrap().unwrap();

    let seen: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let sink = seen.clone();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map(|l| l.file().to_string())
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        *sink.lock().unwrap() = Some((at, message));
    }));
    let result = panic::catch_unwind(AssertUnwindSafe(|| doc.get(User::posts()).len()));
    panic::set_hook(previous);

    assert!(result.is_err());
    let (file, message) = seen.lock().unwrap().take().unwrap();
    assert!(file.ends_with("display.rs"), "panic located at {file}");
    assert_eq!(
        message,
        "relation `posts` was not loaded on row users:1; add `.with(...::posts())` to the query, \
         or use try_get"
    );
}
