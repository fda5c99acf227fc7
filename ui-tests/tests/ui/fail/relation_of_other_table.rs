// Reading a loaded relation takes that table's relation descriptor: a `Post` row has no
// `User::posts()`.
use redorm::prelude::*;

#[derive(Table, Debug, Clone)]
#[has_many(posts, Post, by = author_id)]
struct User {
    name: String,
}

#[derive(Table, Debug, Clone)]
struct Post {
    #[belongs_to(author, User)]
    author_id: Id<User>,
}

fn main() {
    let db = Db::builder().table::<User>().table::<Post>().in_memory().unwrap();
    let tx = db.read().unwrap();
    let post = tx.query::<Post>().first().unwrap().unwrap();
    let _ = post.get(User::posts());
}
