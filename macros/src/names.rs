//! Names derived from the input: a struct's default table name, and `Self` rewritten to the
//! struct's name so that types and paths can be written outside its impl blocks.
//!
//! [`snake_case`] is hand-written rather than `ident_case`'s `RenameRule::SnakeCase`, which
//! puts an underscore before every capital (`HTTPServer` -> `h_t_t_p_server`). The default
//! table name is stored in the database file, so changing how it is computed would silently
//! move the rows of every table named after an acronym.

use proc_macro2::{Group, Ident, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Path, Type};

/// `BlogPost` -> `blog_post`, `HTTPServer` -> `http_server`, `User2FA` -> `user2_fa`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(char::is_lowercase),
                Some(_) => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Replaces every `Self` in `tokens` with the struct's name.
pub(crate) fn replace_self(tokens: TokenStream, with: &Ident) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Ident(ident) if ident == "Self" => {
                TokenTree::Ident(Ident::new(&with.to_string(), ident.span()))
            }
            TokenTree::Group(group) => {
                let mut new = Group::new(group.delimiter(), replace_self(group.stream(), with));
                new.set_span(group.span());
                TokenTree::Group(new)
            }
            other => other,
        })
        .collect()
}

/// `path` with `Self` replaced by the struct's name (a relation's target may be `Self`).
pub(crate) fn replace_self_in_path(path: &Path, struct_ident: &Ident) -> Path {
    syn::parse2(replace_self(path.to_token_stream(), struct_ident)).unwrap_or_else(|_| path.clone())
}

/// `ty` with `Self` replaced by the struct's name.
pub(crate) fn replace_self_in_type(ty: &Type, struct_ident: &Ident) -> Type {
    syn::parse2(replace_self(ty.to_token_stream(), struct_ident)).unwrap_or_else(|_| ty.clone())
}

#[cfg(test)]
mod tests {
    use proc_macro2::Span;

    use super::*;

    #[test]
    fn snake_case_names() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("BlogPost"), "blog_post");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("User2FA"), "user2_fa");
        assert_eq!(snake_case("ABC"), "abc");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("Foo_Bar"), "foo_bar");
        assert_eq!(snake_case("__RedormX"), "__redorm_x");
        assert_eq!(snake_case("Post2"), "post2");
    }

    #[test]
    fn self_is_replaced() {
        let ty: TokenStream = quote::quote!(Option<Id<Self>>);
        let ident = Ident::new("User", Span::call_site());
        assert_eq!(
            replace_self(ty, &ident).to_string(),
            quote::quote!(Option<Id<User>>).to_string()
        );
    }
}
