// Rule: the target of `#[belongs_to(name, Target)]` must be a table (a struct with
// `#[derive(Table)]`); the error points at the target.
use redorm::prelude::*;

#[derive(Debug)]
struct Author {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    #[belongs_to(author, Author)]
    author_id: Id<Author>,
}

fn main() {}
