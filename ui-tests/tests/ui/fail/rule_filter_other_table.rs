// A table's read rule is a filter on that table: a condition on another table's column does
// not compile.
use redorm::prelude::*;
use redorm::Rules;

#[derive(Clone)]
struct Viewer {
    name: String,
}

#[derive(Table, Debug, Clone)]
struct User {
    name: String,
}

#[derive(Table, Debug, Clone)]
struct Post {
    title: String,
}

fn main() {
    let _ = Db::builder()
        .table::<User>()
        .table::<Post>()
        .rules(Rules::<Post, Viewer>::new().read(|v| User::name().eq(v.name.clone())));
}
