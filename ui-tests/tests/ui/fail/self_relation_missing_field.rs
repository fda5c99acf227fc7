// Rule: a `#[has_many]` / `#[has_one]` of a struct to itself goes through one of its own
// fields, which the derive can check: a missing one is an error at `by`, with a suggestion.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[has_many(reports, User, by = manger_id)]
struct User {
    name: String,
    #[belongs_to(manager, User, on_delete = set_null)]
    manager_id: Option<Id<User>>,
}

fn main() {}
