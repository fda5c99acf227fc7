//! Derive macros for redorm. Use them through the `redorm` crate, which re-exports them:
//! `use redorm::prelude::*;` brings `#[derive(Table)]` and `#[derive(Column)]` into scope.
//!
//! The generated code only refers to `::redorm::__private` (or `<path>::__private` with
//! `#[table(crate = path)]`), the runtime's hidden module that is the macros' ABI.

mod column;
mod table;
mod util;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `redorm::Table` for a struct with named fields: table metadata, row encoding, and
/// typed descriptors for every column (`User::email()`) and index (`User::by_email()`).
///
/// See the `redorm` crate's documentation for the attributes: `#[table(...)]` on the struct,
/// `#[unique]`, `#[index]` and `#[default(expr)]` on fields.
#[proc_macro_derive(Table, attributes(table, unique, index, default))]
pub fn derive_table(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    table::derive(&input).into()
}

/// Derives `redorm::Column` for an enum whose variants have no fields. The variants are
/// stored by their position in the declaration, and index keys sort in declaration order.
///
/// `#[column(crate = path)]` names the `redorm` crate when it is re-exported under another
/// path.
#[proc_macro_derive(Column, attributes(column))]
pub fn derive_column(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    column::derive(&input).into()
}
