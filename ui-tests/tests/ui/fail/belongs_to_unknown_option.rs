// Rule: an unknown option of `#[belongs_to(...)]` is an error at the option, with a "did you
// mean" and the list of options.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Post {
    #[belongs_to(author, User, ondelete = cascade)]
    author_id: Id<User>,
    #[belongs_to(editor, User, nullable)]
    editor_id: Option<Id<User>>,
}

fn main() {}
