//! The row side of the `Table` impl: `decode_row` (which fills fields missing from old rows
//! with their default) and `set_column_default`.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Lit, Type, UnOp};

use super::respan;
use crate::table::check::{FieldDef, TableDef};

/// `set_column_default`: the fields with a `#[default(...)]`. Omitted when there are none (the
/// trait's default answers `false`).
pub(super) fn expand_set_column_default(def: &TableDef, p: &TokenStream) -> TokenStream {
    let arms: Vec<_> = def
        .fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let expr = f.default.as_ref()?;
            let ident = &f.ident;
            let value = default_value(f, expr, p);
            Some(quote! {
                #i => {
                    self.#ident = #value;
                    true
                }
            })
        })
        .collect();
    if arms.is_empty() {
        return TokenStream::new();
    }
    quote! {
        fn set_column_default(&mut self, __redorm_column: usize) -> bool {
            match __redorm_column {
                #(#arms)*
                _ => false,
            }
        }
    }
}

/// `decode_row`: the fast path decodes the fields in order; with a stored layout, fields are
/// read in the stored order and missing ones take their default.
pub(super) fn expand_decode_row(def: &TableDef, p: &TokenStream) -> TokenStream {
    let fields = &def.fields;
    let field_idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
    let positions: Vec<usize> = (0..fields.len()).collect();
    let locals: Vec<_> = positions
        .iter()
        .map(|i| format_ident!("__redorm_f{}", i))
        .collect();
    let types: Vec<_> = fields.iter().map(|f| &f.ty).collect();

    let fallbacks = fields.iter().enumerate().map(|(i, f)| match &f.default {
        Some(expr) => default_value(f, expr, p),
        None => {
            let ty = &f.ty;
            quote!(#p::missing_field::<#ty>(#i)?)
        }
    });

    let layout_body = if fields.is_empty() {
        quote! {
            if let #p::Some(&__redorm_pos) = __redorm_layout.first() {
                return #p::Err(#p::bad_layout(__redorm_pos));
            }
            #p::Ok(Self {})
        }
    } else {
        quote! {
            #( let mut #locals: #p::Option<#types> = #p::None; )*
            for &__redorm_pos in __redorm_layout {
                match __redorm_pos {
                    #(
                        #positions => {
                            #locals = #p::Some(#p::decode_field(#positions, __redorm_input)?);
                        }
                    )*
                    __redorm_other => return #p::Err(#p::bad_layout(__redorm_other)),
                }
            }
            #p::Ok(Self {
                #(
                    #field_idents: match #locals {
                        #p::Some(__redorm_value) => __redorm_value,
                        #p::None => #fallbacks,
                    },
                )*
            })
        }
    };

    quote! {
        fn decode_row(
            __redorm_layout: #p::Option<&[usize]>,
            __redorm_input: &mut &[u8],
        ) -> #p::Result<Self, #p::FieldError> {
            match __redorm_layout {
                #p::None => #p::Ok(Self {
                    #( #field_idents: #p::decode_field(#positions, __redorm_input)?, )*
                }),
                #p::Some(__redorm_layout) => {
                    #layout_body
                }
            }
        }
    }
}

/// The value of `#[default(expr)]`, converted to the field's type. Spanned at the expression so
/// a type mismatch points at it.
fn default_value(field: &FieldDef, expr: &Expr, p: &TokenStream) -> TokenStream {
    let ty = &field.ty;
    let span = expr.span();
    if is_unsuffixed_number(expr) {
        // `Into::<u64>::into(0)` does not compile (the literal falls back to i32, and there is
        // no `From<i32>` for u64): give a plain number the field's type directly.
        let value = if is_option(ty) {
            quote_spanned!(span=> #p::Some(#expr))
        } else {
            expr.to_token_stream()
        };
        quote_spanned! {span=>
            {
                let __redorm_default: #ty = #value;
                __redorm_default
            }
        }
    } else {
        // The crate path has its own span: respan it too, or the error's "required by this
        // call" label points at the derive.
        let into = respan(quote!(#p::Into::<#ty>::into), span);
        quote_spanned!(span=> #into(#expr))
    }
}

/// `0`, `-1`, `2.5`: a number whose type comes from the context.
fn is_unsuffixed_number(expr: &Expr) -> bool {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(int) => int.suffix().is_empty(),
            Lit::Float(float) => float.suffix().is_empty(),
            _ => false,
        },
        Expr::Unary(unary) => matches!(unary.op, UnOp::Neg(_)) && is_unsuffixed_number(&unary.expr),
        Expr::Paren(paren) => is_unsuffixed_number(&paren.expr),
        Expr::Group(group) => is_unsuffixed_number(&group.expr),
        _ => false,
    }
}

/// Whether the type is written as `Option<...>` (or a path ending in it).
fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Option"),
        Type::Group(group) => is_option(&group.elem),
        Type::Paren(paren) => is_option(&paren.elem),
        _ => false,
    }
}
