// Rule: `by = field` of `#[has_many]` / `#[has_one]` (they share this check) must be a field of
// the target of type `Id<Self>` or `Option<Id<Self>>`; another type is an error at `field`, and
// the note names the relation.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[has_many(posts, Post, by = title)]
#[has_one(pinned, Post, by = group_id)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Group {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    #[belongs_to(author, User)]
    author_id: Id<User>,
    #[belongs_to(group, Group)]
    group_id: Id<Group>,
    title: String,
}

fn main() {}
