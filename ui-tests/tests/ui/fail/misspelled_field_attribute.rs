// Rule: a misspelled field attribute (`#[uniqe]` for `#[unique]`) is rejected; rustc reports
// it and suggests the registered helper attribute.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    #[uniqe]
    email: String,
}

fn main() {}
