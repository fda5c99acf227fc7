// Rule: two indexes of a table cannot share a name (each name is also a descriptor function),
// whether declared on fields or in `#[table(...)]`.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(index(by_mail = [name]))]
struct User {
    #[unique(name = "by_mail")]
    email: String,
    #[unique]
    #[index]
    name: String,
}

fn main() {}
