// Rule: `on_delete = set_null` needs a field that can be `None`: on an `Id<_>` field it is an
// error at the field's type.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    #[belongs_to(author, User, on_delete = set_null)]
    author_id: Id<User>,
}

fn main() {}
