// A query on one table cannot filter on a column of another table.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    title: String,
}

fn main() {
    let db = Db::builder().table::<User>().table::<Post>().in_memory().unwrap();
    let tx = db.read().unwrap();
    let _ = tx.query::<User>().filter(Post::title().eq("x"));
}
