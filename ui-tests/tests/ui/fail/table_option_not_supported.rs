// Rule: options that redorm does not support (yet), such as soft deletion, are unknown options
// of `#[table(...)]`: the error lists the options that exist.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(name = "users", delete = soft)]
struct User {
    email: String,
}

fn main() {}
