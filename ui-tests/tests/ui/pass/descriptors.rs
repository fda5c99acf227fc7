//! The descriptor types of the README's `User`: `User::by_email()` is a unique index keyed by
//! `(String,)`, and every field has a column descriptor named like it.
#![deny(warnings)]

use redorm::prelude::*;
use redorm::{Col, Index, UniqueIndex};

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
pub struct User {
    #[unique]
    pub email: String,
    pub name: String,
    #[default("member")]
    pub role: String,
    pub manager_id: Option<Id<User>>,
}

#[derive(Table, Debug, Clone)]
#[table(name = "posts", index(by_author_created = [author_id, created]))]
pub struct Post {
    pub author_id: Id<User>,
    pub title: String,
    pub published: bool,
    pub created: i64,
}

/// Index descriptors convert to the non-unique kind.
fn takes_index<T, K>(index: impl Into<Index<T, K>>) -> &'static str {
    index.into().name()
}

fn main() {
    let _: UniqueIndex<User, (String,)> = User::by_email();
    let _: Col<User, String> = User::email();
    let _: Col<User, Option<Id<User>>> = User::manager_id();
    let _: Index<Post, (Id<User>, i64)> = Post::by_author_created();
    assert_eq!(takes_index(User::by_email()), "by_email");
    assert_eq!(Post::NAME, "posts");
    assert_eq!(format!("{:?}", User::by_email()), "UniqueIndex(by_email)");
}
