// Rule: `name` and `crate` can be given once, even across several `#[table(...)]` attributes,
// and `#[table]` needs options in parentheses.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(name = "users")]
#[table(name = "people")]
#[table]
struct User {
    email: String,
}

fn main() {}
