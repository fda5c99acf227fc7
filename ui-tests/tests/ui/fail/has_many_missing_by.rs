// Rule: `#[has_many]` / `#[has_one]` need `by = field`, the target's field that holds this
// row's id: without it the error says so, with an example.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[has_many(posts, Post)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    user_id: Id<User>,
}

fn main() {}
