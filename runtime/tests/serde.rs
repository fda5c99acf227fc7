//! The `serde` feature: exact JSON for ids, rows, pages and cursors, and what is refused on
//! the way in. Run with `cargo test -p redorm --features serde --test serde`.
#![cfg(feature = "serde")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use redorm::prelude::*;
use redorm::{Cursor, ManualClock, Page};
use serde::{Deserialize, Serialize};

#[derive(Table, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[table(name = "users", delete = soft)]
struct User {
    #[unique]
    email: String,
    age: u32,
}

#[derive(Table, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[table(name = "posts")]
struct Post {
    #[belongs_to(author, User, on_delete = cascade)]
    author_id: Id<User>,
}

fn db() -> Db {
    Db::builder()
        .table::<User>()
        .table::<Post>()
        .clock(ManualClock::new(1_700_000_000_000))
        .in_memory()
        .unwrap()
}

#[test]
fn an_id_is_its_string_form() {
    let id = Id::<User>::from_raw(42);
    assert_eq!(serde_json::to_string(&id).unwrap(), r#""users:42""#);
    assert_eq!(
        serde_json::from_str::<Id<User>>(r#""users:42""#).unwrap(),
        id
    );
    // a field of another struct holding an id, as a JSON API sends it
    let post = Post { author_id: id };
    assert_eq!(
        serde_json::to_string(&post).unwrap(),
        r#"{"author_id":"users:42"}"#
    );
}

#[test]
fn an_id_of_another_table_or_in_another_spelling_is_refused() {
    let err = serde_json::from_str::<Id<User>>(r#""posts:42""#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`posts:42` is not an id of table `users`: it is an id of table `posts`, not of `users` \
         at line 1 column 10"
    );
    let err = serde_json::from_str::<Id<User>>(r#""users:042""#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("`users:042` is not an id of table `users`")
    );
    let err = serde_json::from_str::<Id<User>>("42").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid type: integer `42`, expected an id of table `users` as a string, \
         `users:<number>` at line 1 column 2"
    );
}

#[test]
fn a_doc_is_its_fields_with_id_and_created_at_beside_them() {
    let db = db();
    let id = db
        .write(|tx| {
            tx.insert(User {
                email: "a@x".into(),
                age: 30,
            })
        })
        .unwrap();
    let doc = db.read().unwrap().get(id).unwrap().unwrap();
    let json = serde_json::to_string(&doc).unwrap();
    assert_eq!(
        json,
        r#"{"id":"users:1","created_at":1700000000000,"email":"a@x","age":30}"#
    );
    let back: Doc<User> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, doc);

    // a soft-deleted row says when
    db.write(|tx| tx.delete(id)).unwrap();
    let gone = db
        .read()
        .unwrap()
        .get_including_deleted(id)
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_string(&gone).unwrap(),
        r#"{"id":"users:1","created_at":1700000000000,"deleted_at":1700000000000,"email":"a@x","age":30}"#
    );
    let back: Doc<User> = serde_json::from_str(&serde_json::to_string(&gone).unwrap()).unwrap();
    assert_eq!(back.deleted_at(), Some(1_700_000_000_000));
}

#[test]
fn a_doc_of_another_table_is_refused() {
    let err = serde_json::from_str::<Doc<User>>(
        r#"{"id":"posts:1","created_at":0,"email":"a@x","age":30}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("`posts:1` is not an id of table `users`"),
        "{err}"
    );
}

#[test]
fn a_page_and_its_cursor_round_trip_through_json() {
    let db = db();
    db.write(|tx| {
        for (i, email) in ["a@x", "b@x", "c@x"].into_iter().enumerate() {
            tx.insert(User {
                email: email.into(),
                age: i as u32,
            })?;
        }
        Ok(())
    })
    .unwrap();
    let tx = db.read().unwrap();
    let page = tx.query::<User>().paginate(None, 2).unwrap();
    let json = serde_json::to_value(&page).unwrap();
    let cursor = page.next_cursor.clone().unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "items": [
                {"id": "users:1", "created_at": 1_700_000_000_000_i64, "email": "a@x", "age": 0},
                {"id": "users:2", "created_at": 1_700_000_000_000_i64, "email": "b@x", "age": 1},
            ],
            "next_cursor": cursor.as_str(),
            "prev_cursor": null,
            "is_done": false,
        })
    );

    // the client sends the cursor back as a string; it continues the same query
    let sent: Cursor = serde_json::from_value(json["next_cursor"].clone()).unwrap();
    assert_eq!(sent, cursor);
    let next = tx.query::<User>().paginate(Some(&sent), 2).unwrap();
    let emails: Vec<&str> = next.items.iter().map(|d| d.email.as_str()).collect();
    assert_eq!(emails, ["c@x"]);
    assert!(next.is_done);
    assert_eq!(
        serde_json::to_value(&next).unwrap()["next_cursor"],
        serde_json::Value::Null
    );
    // the second page points back at the first, by a string too
    let prev = next.prev_cursor.clone().unwrap();
    assert_eq!(
        serde_json::to_value(&next).unwrap()["prev_cursor"],
        serde_json::Value::String(prev.as_str().to_string())
    );

    let back: Page<User> = serde_json::from_value(json).unwrap();
    assert_eq!(back.items, page.items);
    assert_eq!(back.next_cursor, page.next_cursor);
    assert_eq!(back.prev_cursor, None);
    assert!(!back.is_done);
}
