// A relation filter is a filter on the relation's own table: `User::posts().exists()` filters
// users, not posts, and the condition of `any` is on the related table.
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
    title: String,
}

fn main() {
    let db = Db::builder().table::<User>().table::<Post>().in_memory().unwrap();
    let tx = db.read().unwrap();
    let _ = tx.query::<Post>().filter(User::posts().exists());
    let _ = User::posts().any(User::name().eq("ann"));
}
