// Rule: an unknown `on_delete` (or `on_soft_delete`) action is an error at the value, with a
// "did you mean" and the list of actions.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    #[belongs_to(author, User, on_delete = cascde)]
    author_id: Id<User>,
    #[belongs_to(editor, User, on_soft_delete = delete)]
    editor_id: Option<Id<User>>,
}

fn main() {}
