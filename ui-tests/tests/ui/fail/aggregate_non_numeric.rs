//! `sum`, `avg`, `min` and `max` take a numeric column: a string column does not compile, and
//! the error says which column types do.

use redorm::prelude::*;

#[derive(Table, Debug)]
struct Post {
    title: String,
    score: i32,
}

fn main() {
    let db = Db::builder().table::<Post>().in_memory().unwrap();
    let tx = db.read().unwrap();
    let _ = tx.query::<Post>().sum(Post::score());
    let _ = tx.query::<Post>().sum(Post::title());
}
