// Rule: an unknown or misspelled option in `#[table(...)]` is an error at the option, with a
// "did you mean" when it is close to a real option, and the list of options.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(nmae = "users")]
struct User {
    email: String,
}

fn main() {}
