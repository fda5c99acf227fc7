// `get_by` returns at most one row, so it takes only a unique index; a plain index is queried
// with `query().filter(...)`.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    #[index]
    name: String,
}

fn main() {
    let db = Db::builder().table::<User>().in_memory().unwrap();
    let tx = db.read().unwrap();
    let _ = tx.get_by(User::by_name(), "ann");
}
