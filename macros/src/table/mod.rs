//! `#[derive(Table)]`, in three stages as in serde_derive: [`attr`] reads the input's syntax
//! into plain data, [`check`] does the checks that need several attributes or fields together
//! and produces the checked model, and [`expand`] generates the code from it.

mod attr;
mod check;
mod expand;
#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::diagnostics::Errors;

/// Expands `#[derive(Table)]`: the generated code, or the compile errors found in the input.
pub(crate) fn derive_table(input: DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let parsed = attr::parse(&input, &mut errors);
    let checked = check::check(parsed, &mut errors);
    match (errors.finish(), checked) {
        (Ok(()), Some(def)) => expand::expand(&def),
        (Err(error), _) => error.to_compile_error(),
        // `check` gives no model only when the input is not a struct with named fields, which
        // is reported.
        (Ok(()), None) => TokenStream::new(),
    }
}
