// Rule: the delay of `delete = scheduled(delay = "...")` is a positive whole number and a unit
// (`ms`, `s`, `m`, `h`, `d`, `w`); anything else is an error at the string, saying what is wrong
// and the accepted form.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(delete = scheduled(delay = "30 days"))]
struct A {
    x: u8,
}

#[derive(Table, Debug)]
#[table(delete = scheduled(delay = "0d"))]
struct B {
    x: u8,
}

#[derive(Table, Debug)]
#[table(delete = scheduled(delay = "99999999999w"))]
struct C {
    x: u8,
}

#[derive(Table, Debug)]
#[table(delete = scheduled(delay = 30))]
struct D {
    x: u8,
}

#[derive(Table, Debug)]
#[table(delete = scheduled)]
struct E {
    x: u8,
}

fn main() {}
