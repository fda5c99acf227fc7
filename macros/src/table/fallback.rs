//! What a faulty `#[derive(Table)]` input gets next to its errors: a `Table` impl whose
//! methods do nothing, and the column descriptors. Other structs that refer to this one
//! (`Id<Broken>`, `#[belongs_to(.., Broken)]`, `#[has_many(.., Broken, by = field)]`) then
//! compile, so the errors shown are only the ones in this struct. The code is never run: the
//! crate does not compile.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Path};

use crate::names::{replace_self_in_type, snake_case};

/// The fallback for `input`. Nothing for a generic struct: an impl for it would need bounds of
/// its own and could only add errors.
pub(super) fn fallback(input: &DeriveInput, krate: &Path) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    let name = snake_case(&ident.unraw().to_string());

    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(&named.named),
            _ => None,
        },
        _ => None,
    };
    let columns = fields
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, f)| {
            let field = f.ident.as_ref()?;
            let column = field.unraw().to_string();
            let vis = &f.vis;
            let ty = replace_self_in_type(&f.ty, ident);
            let doc = format!("The `{column}` column (`#[derive(Table)]` failed: see its errors).");
            Some(quote! {
                #[doc = #doc]
                #[inline]
                #[must_use]
                #vis const fn #field() -> #p::Col<#ident, #ty> {
                    #p::Col::new(#i, #column)
                }
            })
        });

    quote! {
        const _: () = {
            #[automatically_derived]
            impl #p::TableName for #ident {
                const TABLE_NAME: &'static str = #name;
            }

            #[automatically_derived]
            #[allow(unused_qualifications)]
            impl #p::Table for #ident {
                const NAME: &'static str = #name;

                fn schema() -> #p::TableSchema {
                    #p::TableSchema {
                        name: <Self as #p::Table>::NAME,
                        columns: #p::Vec::new(),
                        indexes: #p::Vec::new(),
                        foreign_keys: #p::Vec::new(),
                        relations: #p::Vec::new(),
                        delete: #p::DeleteMode::Hard,
                    }
                }

                fn encode_row(&self, _: &mut #p::Vec<u8>) -> #p::Result<(), #p::FieldError> {
                    #p::Ok(())
                }

                fn decode_row(
                    _: #p::Option<&[usize]>,
                    _: &mut &[u8],
                ) -> #p::Result<Self, #p::FieldError> {
                    #p::Err(#p::bad_layout(0))
                }

                fn encode_column_key(
                    &self,
                    __redorm_column: usize,
                    _: &mut #p::Vec<u8>,
                ) -> #p::Result<(), #p::CodecError> {
                    #p::Err(#p::no_column(<Self as #p::Table>::NAME, __redorm_column))
                }

                fn column_is_null(&self, _: usize) -> bool {
                    false
                }

                fn column_debug(&self, _: usize) -> #p::String {
                    #p::String::new()
                }
            }

            #[automatically_derived]
            #[allow(dead_code, unreachable_pub)]
            impl #ident {
                #(#columns)*
            }
        };
    }
}
