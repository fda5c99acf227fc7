// Rule: a struct whose derive reports an error still gets a minimal `Table` impl and its column
// descriptors, so that the structs referring to it (by a `belongs_to` foreign key, a `has_many`
// or an `Id<...>` field) report nothing more: the one error shown is the real one.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct Author {
    id: u64,
    name: String,
    editor_id: Option<Id<Editor>>,
}

#[derive(Table, Debug)]
struct Post {
    title: String,
    #[belongs_to(author, Author, on_delete = cascade)]
    author_id: Id<Author>,
}

#[derive(Table, Debug)]
#[has_many(authors, Author, by = editor_id)]
struct Editor {
    name: String,
    #[index]
    favourite: Option<Id<Author>>,
}

fn main() {
    let _ = (Author::name(), Post::author(), Editor::authors());
}
