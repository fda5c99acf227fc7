//! An aggregate takes a column of the query's own table.

use redorm::prelude::*;

#[derive(Table, Debug)]
struct Post {
    score: i32,
}

#[derive(Table, Debug)]
struct User {
    age: i32,
}

fn main() {
    let db = Db::builder().table::<Post>().table::<User>().in_memory().unwrap();
    let tx = db.read().unwrap();
    let _ = tx.query::<Post>().max(User::age());
}
