//! Derive macros for redorm. Use them through the `redorm` crate.
use proc_macro::TokenStream;
/// Derives `redorm::Table`.
#[proc_macro_derive(Table, attributes(table, unique, index, default))]
pub fn derive_table(_i: TokenStream) -> TokenStream {
    TokenStream::new()
}
/// Derives `redorm::Column` for unit enums.
#[proc_macro_derive(Column)]
pub fn derive_column(_i: TokenStream) -> TokenStream {
    TokenStream::new()
}
