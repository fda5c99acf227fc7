//! Code generation for `#[derive(Table)]`. Everything generated refers to the runtime through
//! `<crate>::__private`, and lives in a `const _: () = { ... };` block.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Expr, Lit, Type, UnOp};

use crate::util::path_text;

use super::parse::{
    DeleteMode, FieldDef, OnDelete, OnSoftDelete, RelationDef, RelationKind, TableDef,
};

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

    let set_column_default = expand_set_column_default(def, &p);

    let decode_row = expand_decode_row(def, &p);

    let descriptors = expand_descriptors(def, &p);

    quote! {
        const _: () = {
            #(#column_checks)*
            #(#nullable_checks)*

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
    rel: &super::parse::BelongsTo,
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

/// `set_column_default`: the fields with a `#[default(...)]`. Omitted when there are none (the
/// trait's default answers `false`).
fn expand_set_column_default(def: &TableDef, p: &TokenStream) -> TokenStream {
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
fn expand_decode_row(def: &TableDef, p: &TokenStream) -> TokenStream {
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

/// `impl Struct { fn field() -> Col<..>; fn index() -> Index<..> }`.
fn expand_descriptors(def: &TableDef, p: &TokenStream) -> TokenStream {
    let ident = &def.ident;
    let struct_name = ident.to_string();
    let struct_name = struct_name.trim_start_matches("r#");

    let columns = def.fields.iter().enumerate().map(|(i, f)| {
        let FieldDef {
            ident: field,
            name,
            vis,
            ty,
            ..
        } = f;
        let doc = format!(
            "The `{name}` column of table `{table}` (generated by `#[derive(Table)]`).",
            table = def.name
        );
        quote! {
            #[doc = #doc]
            #[inline]
            #[must_use]
            #vis const fn #field() -> #p::Col<#ident, #ty> {
                #p::Col::new(#i, #name)
            }
        }
    });

    let indexes = def.indexes.iter().enumerate().map(|(i, index)| {
        let name = &index.name;
        let fn_ident = &index.ident;
        let vis = &def.vis;
        let types = index
            .columns
            .iter()
            .filter_map(|&c| def.fields.get(c))
            .map(|f| &f.ty);
        let column_names = index
            .columns
            .iter()
            .filter_map(|&c| def.fields.get(c))
            .map(|f| format!("`{}`", f.name))
            .collect::<Vec<_>>()
            .join(", ");
        let (descriptor, kind) = if index.unique {
            (quote!(UniqueIndex), "unique index")
        } else {
            (quote!(Index), "index")
        };
        let doc = format!(
            "The {kind} `{name}` of `{struct_name}` on {column_names} (generated by \
             `#[derive(Table)]`)."
        );
        quote! {
            #[doc = #doc]
            #[inline]
            #[must_use]
            #vis const fn #fn_ident() -> #p::#descriptor<#ident, (#(#types,)*)> {
                #p::#descriptor::new(#i, #name)
            }
        }
    });

    let relations = expand_relations(def, p);

    quote! {
        #[automatically_derived]
        #[allow(dead_code, unreachable_pub)]
        impl #ident {
            #(#columns)*
            #(#indexes)*
            #relations
        }
    }
}

/// The relation descriptors: `Post::author()`, `User::posts()`, `User::groups()`.
fn expand_relations(def: &TableDef, p: &TokenStream) -> TokenStream {
    let ident = &def.ident;
    let struct_name = ident.to_string();
    let struct_name = struct_name.trim_start_matches("r#");

    let belongs_to = def.fields.iter().enumerate().filter_map(|(i, f)| {
        let rel = f.belongs_to.as_ref()?;
        let fn_ident = &rel.ident;
        let name = &rel.name;
        let target = &rel.target;
        let vis = &f.vis;
        let doc = format!(
            "The `{name}` relation of `{struct_name}`: the `{}` row that `{}` points at \
             (generated by `#[belongs_to]`).",
            path_text(target),
            f.name
        );
        Some(quote! {
            #[doc = #doc]
            #[inline]
            #[must_use]
            #vis fn #fn_ident() -> #p::Relation<Self, #target, #p::ToOne> {
                #p::belongs_to::<Self, #target>(#name, #i)
            }
        })
    });

    let declared = def.relations.iter().map(|rel| {
        let RelationDef {
            ident: fn_ident,
            name,
            target,
            kind,
        } = rel;
        let vis = &def.vis;
        let target_text = path_text(target);
        let (cardinality, body, doc) = match kind {
            RelationKind::HasMany { by } | RelationKind::HasOne { by } => {
                let many = matches!(kind, RelationKind::HasMany { .. });
                let column = respan(quote!(#target::#by()), by.span());
                let (cardinality, constructor, what) = if many {
                    (quote!(ToMany), quote!(has_many), "The rows")
                } else {
                    (quote!(ToOne), quote!(has_one), "The row")
                };
                // A helper named after the relation carries the bound, so that a `by` field of
                // the wrong type is reported as "required by a bound in `posts`".
                let bound = respan(
                    quote!(__RedormField: #p::ForeignKey<#ident>),
                    fn_ident.span(),
                );
                let body = quote! {
                    fn #fn_ident<__RedormField>(
                        by: #p::Col<#target, __RedormField>,
                    ) -> #p::Relation<#ident, #target, #p::#cardinality>
                    where
                        #bound
                    {
                        #p::#constructor::<#ident, #target, __RedormField>(#name, by)
                    }
                    #fn_ident(#column)
                };
                let doc = format!(
                    "{what} of `{target_text}` whose `{}` points at this `{struct_name}` row: \
                     the `{name}` relation (generated by `#[{constructor}]`).",
                    by.unraw()
                );
                (cardinality, body, doc)
            }
            RelationKind::ManyToMany { through, from, to } => {
                let from_column = respan(quote!(#through::#from()), from.span());
                let to_column = respan(quote!(#through::#to()), to.span());
                // As for `has_many`: the helper's bounds name the relation in the error.
                let bounds = respan(
                    quote!(
                        __RedormFrom: #p::ForeignKey<#ident>,
                        __RedormTo: #p::ForeignKey<#target>,
                    ),
                    fn_ident.span(),
                );
                let body = quote! {
                    fn #fn_ident<__RedormFrom, __RedormTo>(
                        from: #p::Col<#through, __RedormFrom>,
                        to: #p::Col<#through, __RedormTo>,
                    ) -> #p::Relation<#ident, #target, #p::ToMany>
                    where
                        #bounds
                    {
                        #p::many_to_many::<#ident, #target, #through, __RedormFrom, __RedormTo>(
                            #name,
                            from,
                            to,
                        )
                    }
                    #fn_ident(#from_column, #to_column)
                };
                let doc = format!(
                    "The `{target_text}` rows linked to this `{struct_name}` row by rows of \
                     `{}` (`{}` -> `{}`): the `{name}` relation (generated by \
                     `#[many_to_many]`).",
                    path_text(through),
                    from.unraw(),
                    to.unraw()
                );
                (quote!(ToMany), body, doc)
            }
        };
        quote! {
            #[doc = #doc]
            #[inline]
            #[must_use]
            #vis fn #fn_ident() -> #p::Relation<Self, #target, #p::#cardinality> {
                #body
            }
        }
    });

    quote! {
        #(#belongs_to)*
        #(#declared)*
    }
}

/// `tokens` with every span set to `span`, so that an error about the expression points there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
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
