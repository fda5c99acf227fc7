// Rule: an unknown option of `#[has_many]`, `#[has_one]` or `#[many_to_many]` is an error at the
// option, with a "did you mean" and the list of options.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[has_many(posts, Post, bye = author_id)]
#[many_to_many(groups, Group, through = Membership, form = user_id, to = group_id)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    author_id: Id<User>,
}

#[derive(Table, Debug)]
struct Group {
    name: String,
}

#[derive(Table, Debug)]
struct Membership {
    user_id: Id<User>,
    group_id: Id<Group>,
}

fn main() {}
