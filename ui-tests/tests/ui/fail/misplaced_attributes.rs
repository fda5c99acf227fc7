// Rule: `#[table(...)]` goes on the struct; `#[unique]`, `#[index]` and `#[default(...)]` go on
// fields. An attribute in the wrong place is an error, not silently ignored.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[unique]
#[index(name = "by_both")]
#[default(1)]
struct User {
    #[table(name = "users")]
    email: String,
}

fn main() {}
