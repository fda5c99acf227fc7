// Rule: a table name cannot be empty.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(name = "")]
struct User {
    email: String,
}

fn main() {}
