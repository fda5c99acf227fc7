//! `#[derive(Table)]`, in three stages as in serde_derive: [`attr`] reads the input's syntax
//! into plain data, [`check`] does the checks that need several attributes or fields together
//! and produces the checked model, and [`expand`] generates the code from it.
//!
//! A faulty input still gets a minimal `Table` impl next to its errors ([`fallback`]), so that
//! other structs referring to it report nothing more.

mod attr;
mod check;
mod expand;
mod fallback;
#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::diagnostics::Errors;
use crate::meta::default_crate;

/// Expands `#[derive(Table)]`: the generated code, or the compile errors found in the input
/// followed by the fallback impl.
pub(crate) fn derive_table(input: DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let parsed = attr::parse(&input, &mut errors);
    let krate = parsed.table.krate.clone().unwrap_or_else(default_crate);
    let checked = check::check(parsed, &mut errors);
    match (errors.finish(), checked) {
        (Ok(()), Some(def)) => expand::expand(&def),
        (Err(error), _) => {
            let mut tokens = error.to_compile_error();
            tokens.extend(fallback::fallback(&input, &krate));
            tokens
        }
        // `check` gives no model only when the input is not a struct with named fields, which
        // is reported; nothing to generate either way.
        (Ok(()), None) => fallback::fallback(&input, &krate),
    }
}
