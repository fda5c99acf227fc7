// Rule: `delete` is `hard`, `soft` or `scheduled(delay = "...")`; anything else is an error at
// the value, with a "did you mean" and the list of modes.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(delete = sfot)]
struct A {
    x: u8,
}

#[derive(Table, Debug)]
#[table(delete = archive)]
struct B {
    x: u8,
}

#[derive(Table, Debug)]
#[table(delete = "soft")]
struct C {
    x: u8,
}

fn main() {}
