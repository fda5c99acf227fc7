// A filter value must have the column's type: comparing a `u32` column with a string does not
// compile.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    age: u32,
}

fn main() {
    let _ = User::age().eq("eighteen");
}
