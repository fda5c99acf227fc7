// Rule: a `#[belongs_to(name, Target)]` field must be `Id<Target>` or `Option<Id<Target>>`; any
// other type is an error at the field's type, naming the relation.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    #[belongs_to(author, User)]
    author_id: u64,
}

fn main() {}
