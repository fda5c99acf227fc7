// Rule: options that other ORMs have but redorm does not, such as `primary_key` (every row has
// its own `id`), are unknown options of `#[table(...)]`: the error lists the options that exist.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(name = "users", primary_key = email)]
struct User {
    email: String,
}

fn main() {}
