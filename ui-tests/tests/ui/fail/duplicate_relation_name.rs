// Rule: two relations of a struct cannot share a name, whatever their kinds: the second one is
// reported, with where the first is.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[has_many(posts, Post, by = author_id)]
#[has_many(posts, Post, by = reviewer_id)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
#[has_many(author, User, by = name)]
struct Post {
    #[belongs_to(author, User)]
    author_id: Id<User>,
    #[belongs_to(reviewer, User)]
    reviewer_id: Option<Id<User>>,
}

fn main() {}
