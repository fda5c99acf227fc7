// Rule: an index cannot be named like a field: `User::email()` cannot be both the column's and
// the index's descriptor.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(index(name = [name, email]))]
struct User {
    #[unique(name = "email")]
    email: String,
    name: String,
}

fn main() {}
