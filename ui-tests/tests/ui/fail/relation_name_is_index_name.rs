// Rule: a relation's name must not be the name of an index (both are descriptor functions),
// including the index `by_<field>` that `#[belongs_to]` creates.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(index(by_name = [name]))]
#[has_many(by_name, User, by = manager_id)]
#[has_many(by_manager_id, User, by = manager_id)]
struct User {
    name: String,
    #[belongs_to(manager, User)]
    manager_id: Option<Id<User>>,
}

fn main() {}
