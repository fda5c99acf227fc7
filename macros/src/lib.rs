//! Derive macros for redorm. Use them through the `redorm` crate, which re-exports them:
//! `use redorm::prelude::*;` brings `#[derive(Table)]` and `#[derive(Column)]` into scope.
//!
//! Each derive is a thin wrapper around a function from `syn::DeriveInput` to
//! `proc_macro2::TokenStream` (`table::derive_table`, `column::derive_column`), which the
//! unit and snapshot tests call directly.
//!
//! The generated code only refers to `::redorm::__private` (or `<path>::__private` with
//! `#[table(crate = path)]`), the runtime's hidden module that is the macros' ABI.

mod column;
mod diagnostics;
#[cfg(test)]
mod expansion_tests;
mod meta;
mod names;
mod table;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `redorm::Table` for a struct with named fields: table metadata, row encoding, and
/// typed descriptors for every column (`User::email()`), index (`User::by_email()`) and
/// relation (`User::posts()`, `Post::author()`).
///
/// See the `redorm` crate's documentation for the attributes: on the struct, `#[table(...)]`
/// (`name`, `crate`, `index`, `unique`, `delete = hard | soft | scheduled(delay = "30d")`) and
/// the relations `#[has_many(name, Target, by = field)]`, `#[has_one(name, Target, by = field)]`
/// and `#[many_to_many(name, Target, through = Join, from = a, to = b)]`; on fields,
/// `#[unique]`, `#[index]`, `#[default(expr)]` and
/// `#[belongs_to(name, Target, on_delete = ..., on_soft_delete = ...)]`.
#[proc_macro_derive(
    Table,
    attributes(
        table,
        unique,
        index,
        default,
        belongs_to,
        has_many,
        has_one,
        many_to_many
    )
)]
pub fn derive_table(input: TokenStream) -> TokenStream {
    table::derive_table(parse_macro_input!(input as DeriveInput)).into()
}

/// Derives `redorm::Column` for an enum whose variants have no fields. The variants are
/// stored by their position in the declaration, and index keys sort in declaration order.
///
/// `#[column(crate = path)]` names the `redorm` crate when it is re-exported under another
/// path.
#[proc_macro_derive(Column, attributes(column))]
pub fn derive_column(input: TokenStream) -> TokenStream {
    column::derive_column(parse_macro_input!(input as DeriveInput)).into()
}
