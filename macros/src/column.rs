//! `#[derive(Column)]` for enums whose variants have no fields: a variant is stored as its
//! position in the declaration, so index keys sort in declaration order.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Fields, Meta, Path};

use crate::diagnostics::{Errors, Result, did_you_mean, error};
use crate::meta::{NestedMeta, crate_option, default_crate, path_text};

/// Expands `#[derive(Column)]`, or returns the compile errors found in the input followed by
/// the fallback impl.
pub(crate) fn derive_column(input: DeriveInput) -> TokenStream {
    match parse(&input) {
        Ok(def) => expand(&def),
        Err(errors) => {
            let mut tokens = errors.to_compile_error();
            tokens.extend(fallback(&input));
            tokens
        }
    }
}

/// What a faulty input gets next to its errors: a `Column` impl whose methods do nothing, so
/// that tables with a field of this type report nothing more. The code is never run: the
/// crate does not compile. Nothing for a generic type, whose impl would need bounds.
fn fallback(input: &DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let mut errors = Errors::default();
    let krate = parse_column_attrs(&input.attrs, &mut errors).unwrap_or_else(default_crate);
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    let name = ident.unraw().to_string();
    quote! {
        const _: () = {
            #[automatically_derived]
            #[allow(unused_qualifications)]
            impl #p::Column for #ident {
                fn type_name() -> #p::String {
                    #p::String::from(#name)
                }

                fn encode_value(&self, _: &mut #p::Vec<u8>) -> #p::Result<(), #p::CodecError> {
                    #p::Ok(())
                }

                fn decode_value(_: &mut &[u8]) -> #p::Result<Self, #p::CodecError> {
                    #p::Err(#p::unknown_variant(#name, 0))
                }

                fn encode_key(&self, _: &mut #p::Vec<u8>) -> #p::Result<(), #p::CodecError> {
                    #p::Ok(())
                }
            }
        };
    }
}

/// A checked `#[derive(Column)]` input.
struct EnumDef {
    ident: syn::Ident,
    krate: Path,
    variants: Vec<syn::Ident>,
}

/// Reads and checks the input (an enum without fields nor generics), reporting every mistake.
fn parse(input: &DeriveInput) -> Result<EnumDef> {
    let mut errors = Errors::default();
    let name = input.ident.unraw().to_string();
    let krate = parse_column_attrs(&input.attrs, &mut errors);

    let mut variants = Vec::new();
    match &input.data {
        Data::Enum(data) => {
            for variant in &data.variants {
                match &variant.fields {
                    Fields::Unit => variants.push(variant.ident.clone()),
                    fields => errors.push(error(
                        fields,
                        format!(
                            "variant `{name}::{}` has fields, but `#[derive(Column)]` stores only \
                             which variant a value is; remove the fields, or store the whole \
                             enum as JSON with a `Json<{name}>` column (and serde's derives)",
                            variant.ident.unraw()
                        ),
                    )),
                }
            }
        }
        Data::Struct(data) => errors.push(error(
            data.struct_token,
            format!(
                "`#[derive(Column)]` applies to enums whose variants have no fields, but \
                 `{name}` is a struct; store it as JSON with a `Json<{name}>` column (and serde's \
                 derives), or make it a table of its own with `#[derive(Table)]`"
            ),
        )),
        Data::Union(data) => errors.push(error(
            data.union_token,
            format!(
                "`#[derive(Column)]` applies to enums whose variants have no fields, but \
                 `{name}` is a union"
            ),
        )),
    }

    if !input.generics.params.is_empty() {
        errors.push(error(
            &input.generics,
            format!(
                "`#[derive(Column)]` does not support generic enums: remove the generic \
                 parameters from `{name}`"
            ),
        ));
    }

    errors.finish_with(EnumDef {
        ident: input.ident.clone(),
        krate: krate.unwrap_or_else(default_crate),
        variants,
    })
}

/// `#[column(crate = path)]`.
fn parse_column_attrs(attrs: &[Attribute], errors: &mut Errors) -> Option<Path> {
    let mut krate = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("column")) {
        let Meta::List(list) = &attr.meta else {
            errors.push(error(attr, "expected `#[column(crate = path)]`"));
            continue;
        };
        let Some(items) = errors.handle(NestedMeta::parse_list(&list.tokens)) else {
            continue;
        };
        for item in &items {
            let NestedMeta::Meta(meta) = item else {
                errors.push(error(item, "expected `crate = path`"));
                continue;
            };
            let key = path_text(meta.path());
            if key == "crate" {
                if krate.is_some() {
                    errors.push(error(
                        meta.path(),
                        "`crate` is given twice in `#[column(...)]`; keep one",
                    ));
                } else {
                    krate = errors.handle(crate_option(meta, "column"));
                }
            } else {
                errors.push(error(
                    meta.path(),
                    format!(
                        "unknown option `{key}` in `#[column(...)]`{}",
                        did_you_mean(&key, ["crate"], "the only option is `crate = path`")
                    ),
                ));
            }
        }
    }
    krate
}

/// The `Column` impl: variants stored by position.
fn expand(def: &EnumDef) -> TokenStream {
    let krate = &def.krate;
    let p = quote!(#krate::__private);
    let ident = &def.ident;
    let enum_name = ident.unraw().to_string();
    let type_name = format!(
        "enum({})",
        def.variants
            .iter()
            .map(|v| v.unraw().to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let variants = &def.variants;
    let indexes: Vec<u32> = (0..).take(variants.len()).collect();
    let numbers: Vec<u64> = indexes.iter().map(|&i| u64::from(i)).collect();

    quote! {
        const _: () = {
            #[automatically_derived]
            #[allow(unused_qualifications)]
            impl #p::Column for #ident {
                fn type_name() -> #p::String {
                    #p::String::from(#type_name)
                }

                fn encode_value(
                    &self,
                    __redorm_out: &mut #p::Vec<u8>,
                ) -> #p::Result<(), #p::CodecError> {
                    match *self {
                        #( Self::#variants => #p::encode_variant(#indexes, __redorm_out), )*
                    }
                }

                fn decode_value(__redorm_input: &mut &[u8]) -> #p::Result<Self, #p::CodecError> {
                    match #p::decode_variant(__redorm_input)? {
                        #( #numbers => #p::Ok(Self::#variants), )*
                        __redorm_n => #p::Err(#p::unknown_variant(#enum_name, __redorm_n)),
                    }
                }

                fn encode_key(
                    &self,
                    __redorm_out: &mut #p::Vec<u8>,
                ) -> #p::Result<(), #p::CodecError> {
                    match *self {
                        #( Self::#variants => #p::encode_variant_key(#indexes, __redorm_out), )*
                    }
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(input: DeriveInput) -> String {
        derive_column(input).to_string().replace(' ', "")
    }

    #[test]
    fn fallback_after_errors() {
        let code = expand_str(syn::parse_quote! {
            #[column(crate = my::orm)]
            enum Mood { Calm, Angry(u8) }
        });
        assert_eq!(code.matches("compile_error").count(), 1, "{code}");
        assert!(
            code.contains("implmy::orm::__private::ColumnforMood"),
            "{code}"
        );
        assert!(!code.contains("encode_variant"), "{code}");
        // None for a generic enum: the impl would need bounds of its own.
        let code = expand_str(syn::parse_quote!(
            enum G<T> {
                A,
                B(T),
            }
        ));
        assert_eq!(code.matches("compile_error").count(), 2, "{code}");
        assert!(!code.contains("impl"), "{code}");
    }
}
