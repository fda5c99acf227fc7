//! Snapshot tests of the generated code, pretty-printed, for a few representative inputs. The
//! accepted snapshots are in `src/snapshots/`; after a deliberate change to the generated code,
//! review the new `.snap.new` files (`cargo insta review`, or rename them by hand).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::column::derive_column;
use crate::table::derive_table;

/// The generated code, formatted by `prettyplease`.
fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens.clone())
        .unwrap_or_else(|e| panic!("the generated code is not a file: {e}\n{tokens}"));
    prettyplease::unparse(&file)
}

/// Snapshots the code that `derive` generates for `input`. The snapshot shows the input, then
/// the code.
fn check(name: &str, derive: fn(DeriveInput) -> TokenStream, input: TokenStream) {
    let parsed: DeriveInput = syn::parse2(input.clone()).unwrap();
    let snapshot = format!(
        "{}\n// ---- expands to ----\n\n{}",
        pretty(input),
        pretty(derive(parsed))
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, snapshot));
}

#[test]
fn plain_table_with_unique_and_index() {
    check(
        "plain_table_with_unique_and_index",
        derive_table,
        quote::quote! {
            #[table(name = "users", unique(by_name_age = [name, age]))]
            pub struct User {
                #[unique]
                pub email: String,
                #[index]
                pub name: String,
                #[default(0)]
                pub age: u32,
                nickname: Option<String>,
            }
        },
    );
}

#[test]
fn table_with_relations_and_soft_delete() {
    check(
        "table_with_relations_and_soft_delete",
        derive_table,
        quote::quote! {
            #[table(delete = soft)]
            #[has_many(posts, Post, by = author_id)]
            #[many_to_many(groups, Group, through = Membership, from = author_id, to = group_id)]
            pub struct Author {
                pub name: String,
            }
        },
    );
}

#[test]
fn table_with_belongs_to_and_scheduled_delete() {
    check(
        "table_with_belongs_to_and_scheduled_delete",
        derive_table,
        quote::quote! {
            #[table(delete = scheduled(delay = "30d"))]
            #[has_one(cover, Image, by = post_id)]
            #[has_many(replies, Self, by = parent_id)]
            pub struct Post {
                pub title: String,
                #[belongs_to(author, Author, on_delete = cascade, on_soft_delete = cascade)]
                pub author_id: Id<Author>,
                #[belongs_to(parent, Self, on_delete = set_null)]
                pub parent_id: Option<Id<Self>>,
            }
        },
    );
}

#[test]
fn column_enum() {
    check(
        "column_enum",
        derive_column,
        quote::quote! {
            #[derive(Column)]
            pub enum Status {
                Draft,
                Published,
                Archived,
            }
        },
    );
}

#[test]
fn fallback_after_an_error() {
    check(
        "fallback_after_an_error",
        derive_table,
        quote::quote! {
            pub struct Broken {
                id: u64,
                pub name: String,
            }
        },
    );
}
