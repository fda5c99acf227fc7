//! `#[derive(Table)]`: [`parse`] reads and checks the input, [`expand`] generates the code.

mod expand;
mod parse;

use proc_macro2::TokenStream;
use syn::DeriveInput;

/// Expands `#[derive(Table)]`, or returns the compile errors found in the input.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    match parse::parse(input) {
        Ok(def) => expand::expand(&def),
        Err(errors) => errors.to_compile_error(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(input: DeriveInput) -> String {
        derive(&input).to_string().replace(' ', "")
    }

    #[test]
    fn generated_code_only_uses_the_private_module() {
        let code = expand_str(syn::parse_quote! {
            #[table(index(by_ab = [a, b]))]
            pub struct S { #[unique] pub a: String, #[default(0)] b: u64 }
        });
        assert!(code.starts_with("const_:()={"), "{code}");
        assert!(
            code.contains("impl::redorm::__private::TableforS"),
            "{code}"
        );
        assert!(
            code.contains("\"by_ab\",::redorm::__private::Vec::from([0usize,1usize]),false,false")
        );
        assert!(code.contains("UniqueIndex<S,(String,)>"), "{code}");
        assert!(
            !code.contains("panic") && !code.contains("unwrap"),
            "{code}"
        );
    }

    #[test]
    fn crate_path_is_honoured() {
        for input in [
            syn::parse_quote!(
                #[table(crate = my::orm)]
                struct S {
                    a: u8,
                }
            ),
            syn::parse_quote!(
                #[table(crate = "my::orm")]
                struct S {
                    a: u8,
                }
            ),
        ] {
            let code = expand_str(input);
            assert!(code.contains("implmy::orm::__private::TableforS"), "{code}");
            assert!(!code.contains("::redorm"), "{code}");
        }
    }

    #[test]
    fn crate_itself() {
        for input in [
            syn::parse_quote!(
                #[table(crate = crate)]
                struct S {
                    a: u8,
                }
            ),
            syn::parse_quote!(
                #[table(crate = "crate")]
                struct S {
                    a: u8,
                }
            ),
        ] {
            let code = expand_str(input);
            assert!(code.contains("implcrate::__private::TableforS"), "{code}");
        }
    }

    #[test]
    fn errors_are_accumulated() {
        let code = expand_str(syn::parse_quote! {
            #[table(nmae = "x", index(i = []))]
            struct S { id: u8, #[default] a: u8, #[unique(bad)] b: u8 }
        });
        assert_eq!(code.matches("compile_error").count(), 5, "{code}");
        assert!(!code.contains("impl"), "{code}");
    }
}
