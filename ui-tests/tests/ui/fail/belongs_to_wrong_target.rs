// Rule: the field of `#[belongs_to(name, Target)]` must point at `Target`: an `Id` of another
// table is an error at the field's type.
use redorm::prelude::*;

#[derive(Table, Debug)]
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
    author_id: Option<Id<Group>>,
}

fn main() {}
