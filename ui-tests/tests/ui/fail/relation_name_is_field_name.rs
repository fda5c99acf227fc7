// Rule: a relation's name is its descriptor function (`Post::author()`), so it must not be the
// name of a field, whose column descriptor has the same name.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[has_many(name, Post, by = author_id)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    #[belongs_to(author_id, User)]
    author_id: Id<User>,
}

fn main() {}
