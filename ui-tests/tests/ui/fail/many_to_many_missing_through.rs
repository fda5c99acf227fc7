// Rule: `#[many_to_many(...)]` needs `through`, `from` and `to`; the error says which are
// missing and what each one is.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[many_to_many(groups, Group, from = user_id, to = group_id)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Group {
    name: String,
}

fn main() {}
