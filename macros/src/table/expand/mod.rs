//! Stage (c) of `#[derive(Table)]`: code generation from the checked [`TableDef`].
//! Everything generated refers to the runtime through `<crate>::__private`, and lives in a
//! `const _: () = { ... };` block.
//!
//! This file generates the `Table` impl and the schema; [`rows`] the row decoding and the
//! fields' defaults; [`descriptors`] the column, index and relation descriptor functions.

mod descriptors;
mod rows;

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::table::attr::{OnDelete, OnSoftDelete};
use crate::table::check::{BelongsTo, DeleteMode, FieldDef, RelationKind, TableDef};

/// The `Table` impl and the descriptors of a checked table.
pub(crate) fn expand(def: &TableDef) -> TokenStream {
    let krate = &def.krate;
    let p = quote!(#krate::__private);
    let ident = &def.ident;
    let table_name = &def.name;

    let fields = &def.fields;
    let field_idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
    let positions: Vec<usize> = (0..fields.len()).collect();

    // An unsupported field type is reported once, at the type, by a check per field whose
    // error carries the `Column` trait's `on_unimplemented` message.
    let column_checks = fields.iter().map(|f| {
        let ty = &f.ty;
        quote_spanned!(ty.span()=> const _: () = #p::assert_column::<#ty>();)
    });
    // The impl also gets a `for<'_> FieldTy: Column` bound per field. Being higher-ranked, the
    // bound is not checked where the impl is declared (the check above reports the problem),
    // but the bodies are type-checked under it, so an unsupported type does not also produce
    // one error per use in the generated methods.
    let column_bounds = fields.iter().map(|f| {
        let ty = &f.ty;
        quote!(for<'__redorm> #ty: #p::Column,)
    });

    let column_defs = fields.iter().map(|f| {
        let ty = &f.ty;
        let name = &f.name;
        let has_default = f.default.is_some();
        quote!(#p::column_def::<#ty>(#name, #has_default))
    });

    let index_defs = def.indexes.iter().map(|index| {
        let name = &index.name;
        let columns = &index.columns;
        let unique = index.unique;
        let nulls_not_distinct = index.nulls_not_distinct;
        quote! {
            #p::index_def(#name, #p::Vec::from([#(#columns),*]), #unique, #nulls_not_distinct)
        }
    });

    // `on_delete = set_null` needs an `Option` field: checked at the field's type.
    let nullable_checks = fields.iter().filter_map(|f| {
        let rel = f.belongs_to.as_ref()?;
        let ty = &f.ty;
        (rel.on_delete == OnDelete::SetNull)
            .then(|| quote_spanned!(ty.span()=> const _: () = #p::assert_nullable::<#ty>();))
    });

    let foreign_key_defs = fields.iter().enumerate().filter_map(|(i, f)| {
        let rel = f.belongs_to.as_ref()?;
        Some(foreign_key_def(f, i, rel, &p))
    });

    let relation_defs = fields
        .iter()
        .filter_map(|f| f.belongs_to.as_ref())
        .map(|rel| {
            let name = &rel.name;
            let target = &rel.target;
            quote_spanned!(target.span()=> #p::relation_def::<#target>(#name))
        })
        .chain(def.relations.iter().map(|rel| {
            let name = &rel.name;
            let target = &rel.target;
            match &rel.kind {
                RelationKind::HasMany { .. } | RelationKind::HasOne { .. } => {
                    quote_spanned!(target.span()=> #p::relation_def::<#target>(#name))
                }
                RelationKind::ManyToMany { through, .. } => quote_spanned! {target.span()=>
                    #p::relation_through_def::<#target, #through>(#name)
                },
            }
        }));

    let delete = match def.delete {
        DeleteMode::Hard => quote!(#p::DeleteMode::Hard),
        DeleteMode::Soft => quote!(#p::DeleteMode::Soft),
        DeleteMode::Scheduled { delay_ms } => {
            quote!(#p::DeleteMode::Scheduled { delay_ms: #delay_ms })
        }
    };

    let set_column_default = rows::expand_set_column_default(def, &p);

    let decode_row = rows::expand_decode_row(def, &p);

    let descriptors = descriptors::expand_descriptors(def, &p);

    quote! {
        const _: () = {
            #(#column_checks)*
            #(#nullable_checks)*

            #[automatically_derived]
            impl #p::TableName for #ident {
                const TABLE_NAME: &'static str = #table_name;
            }

            #[automatically_derived]
            #[allow(private_bounds, unused_qualifications)]
            impl #p::Table for #ident
            where
                #(#column_bounds)*
            {
                const NAME: &'static str = #table_name;

                fn schema() -> #p::TableSchema {
                    #p::TableSchema {
                        name: <Self as #p::Table>::NAME,
                        columns: #p::Vec::from([#(#column_defs),*]),
                        indexes: #p::Vec::from([#(#index_defs),*]),
                        foreign_keys: #p::Vec::from([#(#foreign_key_defs),*]),
                        relations: #p::Vec::from([#(#relation_defs),*]),
                        delete: #delete,
                    }
                }

                fn encode_row(
                    &self,
                    __redorm_out: &mut #p::Vec<u8>,
                ) -> #p::Result<(), #p::FieldError> {
                    #( #p::encode_field(&self.#field_idents, #positions, __redorm_out)?; )*
                    #p::Ok(())
                }

                #decode_row

                fn encode_column_key(
                    &self,
                    __redorm_column: usize,
                    __redorm_out: &mut #p::Vec<u8>,
                ) -> #p::Result<(), #p::CodecError> {
                    match __redorm_column {
                        #( #positions => #p::encode_key(&self.#field_idents, __redorm_out), )*
                        _ => #p::Err(#p::no_column(<Self as #p::Table>::NAME, __redorm_column)),
                    }
                }

                fn column_is_null(&self, __redorm_column: usize) -> bool {
                    match __redorm_column {
                        #( #positions => #p::is_null(&self.#field_idents), )*
                        _ => false,
                    }
                }

                fn column_debug(&self, __redorm_column: usize) -> #p::String {
                    match __redorm_column {
                        #( #positions => #p::debug(&self.#field_idents), )*
                        _ => #p::String::new(),
                    }
                }

                fn column_ref(
                    &self,
                    __redorm_column: usize,
                ) -> #p::Option<&dyn ::core::any::Any> {
                    match __redorm_column {
                        #( #positions => #p::Some(&self.#field_idents), )*
                        _ => #p::None,
                    }
                }

                fn column_id(&self, __redorm_column: usize) -> #p::Option<u64> {
                    match __redorm_column {
                        #( #positions => #p::as_id(&self.#field_idents), )*
                        _ => #p::None,
                    }
                }

                fn set_column_null(&mut self, __redorm_column: usize) -> bool {
                    match __redorm_column {
                        #( #positions => #p::set_null(&mut self.#field_idents), )*
                        _ => false,
                    }
                }

                #set_column_default
            }

            #descriptors
        };
    }
}

/// The schema entry of a `#[belongs_to]` field. The call's bounds check that the field is an
/// `Id<Target>` or `Option<Id<Target>>` and that the target is a table; it is spanned at the
/// field's type (the target keeps its own span), so the error points there.
fn foreign_key_def(
    field: &FieldDef,
    position: usize,
    rel: &BelongsTo,
    p: &TokenStream,
) -> TokenStream {
    let ty = &field.ty;
    let target = &rel.target;
    let name = &rel.name;
    let on_delete = match rel.on_delete {
        OnDelete::Restrict => quote!(Restrict),
        OnDelete::Cascade => quote!(Cascade),
        OnDelete::SetNull => quote!(SetNull),
        OnDelete::SetDefault => quote!(SetDefault),
    };
    let on_soft_delete = match rel.on_soft_delete {
        OnSoftDelete::Ignore => quote!(Ignore),
        OnSoftDelete::Cascade => quote!(Cascade),
    };
    // A helper named after the relation carries the bounds, so that the error's note says
    // "required by a bound in `author`" and points at the relation's name.
    let helper = &rel.ident;
    let bounds = respan(
        quote!(__RedormTarget: #p::Table, __RedormField: #p::ForeignKey<__RedormTarget>,),
        helper.span(),
    );
    let call = quote_spanned!(ty.span()=> #helper::<#target, #ty>(#position));
    quote! {
        {
            fn #helper<__RedormTarget, __RedormField>(column: usize) -> #p::ForeignKeyDef
            where
                #bounds
            {
                #p::foreign_key::<__RedormTarget, __RedormField>(
                    #name,
                    column,
                    #p::OnDelete::#on_delete,
                    #p::OnSoftDelete::#on_soft_delete,
                )
            }
            #call
        }
    }
}

/// `tokens` with every span set to `span`, so that an error about the expression points there.
pub(super) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(group) = &tt {
                let mut new = Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                tt = TokenTree::Group(new);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}
