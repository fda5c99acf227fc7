// Rule: an index must list at least one column.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(index(by_nothing = []))]
struct User {
    email: String,
}

fn main() {}
