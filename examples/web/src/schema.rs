//! The service's tables: the structs are the rows, and (with serde) the JSON bodies too.

use redorm::prelude::*;
use serde::{Deserialize, Serialize};

/// A user. `POST /users` takes `{"email": …, "name": …}`; the email is unique.
#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "users")]
#[has_many(posts, Post, by = author_id)]
#[has_many(comments, Comment, by = author_id)]
pub struct User {
    /// Unique: a second user with the same email is refused (HTTP 409).
    #[unique]
    pub email: String,
    /// Display name.
    pub name: String,
}

/// A post by a user. Deleting the user deletes their posts (`on_delete = cascade`).
#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "posts")]
#[has_many(comments, Comment, by = post_id)]
pub struct Post {
    /// The author, `"users:1"`; it must exist (HTTP 422 otherwise).
    #[belongs_to(author, User, on_delete = cascade)]
    pub author_id: Id<User>,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
}

/// A comment on a post. Deleting the post deletes its comments; deleting the comment's author
/// keeps the comment and sets `author_id` to `null` (`on_delete = set_null`).
#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "comments")]
pub struct Comment {
    /// The post, `"posts:1"`; it must exist (HTTP 422 otherwise).
    #[belongs_to(post, Post, on_delete = cascade)]
    pub post_id: Id<Post>,
    /// The author, `"users:1"`, or `null` (left out, or the author was deleted).
    #[belongs_to(author, User, on_delete = set_null)]
    #[serde(default)]
    pub author_id: Option<Id<User>>,
    /// Text.
    pub body: String,
}

/// A builder with the three tables registered; finish it with `.open(path)` or `.in_memory()`.
pub fn database() -> redorm::DbBuilder {
    Db::builder()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
}
