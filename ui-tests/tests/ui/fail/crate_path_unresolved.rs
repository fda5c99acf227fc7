// Rule: `#[table(crate = path)]` is used for every path in the generated code: a wrong path is
// reported at the path.
use redorm::prelude::*;

#[allow(unused_imports)]
mod my {
    pub use redorm as orm;
}

#[derive(Table, Debug)]
#[table(crate = my::rom)]
struct User {
    email: String,
}

fn main() {}
