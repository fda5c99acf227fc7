// Rule: `by = field` of `#[has_many]` / `#[has_one]` must name a field of the target table; a
// missing one is an error at the name, with the close field suggested.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[has_many(posts, Post, by = autor_id)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    #[belongs_to(author, User)]
    author_id: Id<User>,
}

fn main() {}
