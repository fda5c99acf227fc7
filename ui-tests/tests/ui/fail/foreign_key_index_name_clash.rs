// Rule: `#[belongs_to]` creates the index `by_<field>` when no declared index starts with the
// field; another index with that name is the duplicate-index error, which says how to rename.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
#[table(index(by_author_id = [title]))]
struct Post {
    #[belongs_to(author, User)]
    author_id: Id<User>,
    title: String,
}

fn main() {}
