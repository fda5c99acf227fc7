//! Attribute syntax shared by the derives: the items of an attribute's list
//! (`#[table(name = "x", index(...))]`) and readers for one `key = value` option.
//!
//! [`NestedMeta`] follows the grammar of darling's type of the same name, which the derives
//! used before: items are `path`, `path = value`, `path(...)` or a literal, and keywords are
//! accepted as keys (`crate = ...`). Keeping that grammar keeps the syntax errors users see.

use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::token::{Brace, Bracket, Paren};
use syn::{
    Expr, ExprLit, Lit, LitStr, MacroDelimiter, Meta, MetaList, MetaNameValue, Path, PathSegment,
    Token,
};

use crate::diagnostics::{Result, error};

/// One item of an attribute's list: an option, or a bare literal.
// Items live only while their attribute is read: boxing `Meta` would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum NestedMeta {
    /// `path`, `path = value` or `path(...)`.
    Meta(Meta),
    /// A literal, e.g. the `"posts"` of `#[has_many("posts", ...)]`.
    Lit(Lit),
}

impl NestedMeta {
    /// Parses the items of an attribute's list, e.g. the inside of `#[table(a = 1, b)]`.
    pub(crate) fn parse_list(tokens: &TokenStream) -> Result<Vec<NestedMeta>> {
        Punctuated::<NestedMeta, Token![,]>::parse_terminated
            .parse2(tokens.clone())
            .map(|items| items.into_iter().collect())
    }
}

impl ToTokens for NestedMeta {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            NestedMeta::Meta(meta) => meta.to_tokens(tokens),
            NestedMeta::Lit(lit) => lit.to_tokens(tokens),
        }
    }
}

impl Parse for NestedMeta {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        if input.peek(Lit) && !(input.peek(syn::LitBool) && input.peek2(Token![=])) {
            input.parse().map(NestedMeta::Lit)
        } else if input.peek(Ident::peek_any) {
            let path = parse_meta_path(input)?;
            parse_meta_after_path(path, input).map(NestedMeta::Meta)
        } else {
            Err(input.error("expected identifier or literal"))
        }
    }
}

/// A path whose segments may be keywords.
fn parse_meta_path(input: ParseStream<'_>) -> Result<Path> {
    let leading_colon = input.parse()?;
    let mut segments = Punctuated::new();
    while input.peek(Ident::peek_any) {
        segments.push_value(PathSegment::from(Ident::parse_any(input)?));
        if !input.peek(Token![::]) {
            break;
        }
        segments.push_punct(input.parse()?);
    }
    if segments.is_empty() {
        return Err(input.error("expected identifier"));
    }
    if segments.trailing_punct() {
        return Err(input.error("expected path segment after `::`"));
    }
    Ok(Path {
        leading_colon,
        segments,
    })
}

/// What follows an item's path: `(...)`, `= value`, or nothing.
fn parse_meta_after_path(path: Path, input: ParseStream<'_>) -> Result<Meta> {
    if input.peek(Paren) || input.peek(Bracket) || input.peek(Brace) {
        let (delimiter, tokens) = input.step(|cursor| match cursor.token_tree() {
            Some((TokenTree::Group(group), rest)) => {
                let span = group.delim_span();
                let delimiter = match group.delimiter() {
                    Delimiter::Parenthesis => MacroDelimiter::Paren(Paren(span)),
                    Delimiter::Brace => MacroDelimiter::Brace(Brace(span)),
                    Delimiter::Bracket => MacroDelimiter::Bracket(Bracket(span)),
                    Delimiter::None => return Err(cursor.error("expected delimiter")),
                };
                Ok(((delimiter, group.stream()), rest))
            }
            _ => Err(cursor.error("expected delimiter")),
        })?;
        Ok(Meta::List(MetaList {
            path,
            delimiter,
            tokens,
        }))
    } else if input.peek(Token![=]) {
        let eq_token: Token![=] = input.parse()?;
        let ahead = input.fork();
        let lit: Option<Lit> = ahead.parse()?;
        let value = match lit {
            Some(lit) if ahead.is_empty() => {
                input.advance_to(&ahead);
                Expr::Lit(ExprLit {
                    attrs: Vec::new(),
                    lit,
                })
            }
            _ if input.peek(Token![#]) && input.peek2(Bracket) => {
                return Err(input.error("unexpected attribute inside of attribute"));
            }
            _ => input.parse()?,
        };
        Ok(Meta::NameValue(MetaNameValue {
            path,
            eq_token,
            value,
        }))
    } else {
        Ok(Meta::Path(path))
    }
}

/// `expr` without invisible groups (from `macro_rules!` fragments).
pub(crate) fn strip_groups(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => strip_groups(&group.expr),
        other => other,
    }
}

/// The text of a path, for messages: `a::b`.
pub(crate) fn path_text(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// `key = "text"`.
pub(crate) fn string_option(meta: &Meta, key: &str, example: &str) -> Result<LitStr> {
    if let Meta::NameValue(nv) = meta {
        if let Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) = &nv.value
        {
            return Ok(lit.clone());
        }
        return Err(error(
            &nv.value,
            format!("expected a string literal: `{key} = \"{example}\"`"),
        ));
    }
    Err(error(meta, format!("expected `{key} = \"{example}\"`")))
}

/// `key = ident`.
pub(crate) fn ident_option(meta: &Meta, key: &str, example: &str) -> Result<Ident> {
    let path = path_option(meta, key, example)?;
    match path.get_ident() {
        Some(ident) => Ok(ident.clone()),
        None => Err(error(
            &path,
            format!("expected a plain name: `{key} = {example}`"),
        )),
    }
}

/// `key = some::path`.
pub(crate) fn path_option(meta: &Meta, key: &str, example: &str) -> Result<Path> {
    let Meta::NameValue(nv) = meta else {
        return Err(error(meta, format!("expected `{key} = {example}`")));
    };
    match strip_groups(&nv.value) {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => Ok(path.path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Err(error(
            lit,
            format!("write it without quotes: `{key} = {}`", lit.value()),
        )),
        other => Err(error(other, format!("expected `{key} = {example}`"))),
    }
}

/// `crate = path` or `crate = "path"`, in `#[attr(...)]`.
pub(crate) fn crate_option(meta: &Meta, attr: &str) -> Result<Path> {
    let hint = || {
        error(
            meta,
            format!(
                "expected the path of the redorm crate: `#[{attr}(crate = some::path)]` or \
                 `#[{attr}(crate = \"some::path\")]`"
            ),
        )
    };
    let Meta::NameValue(nv) = meta else {
        return Err(hint());
    };
    match strip_groups(&nv.value) {
        Expr::Path(path) => Ok(path.path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit.parse::<Path>().map_err(|_| hint()),
        _ => Err(hint()),
    }
}

/// The default crate path, `::redorm`.
pub(crate) fn default_crate() -> Path {
    let mut path = Path::from(Ident::new("redorm", Span::call_site()));
    path.leading_colon = Some(Default::default());
    path
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn items(tokens: TokenStream) -> Vec<String> {
        NestedMeta::parse_list(&tokens)
            .unwrap()
            .iter()
            .map(|item| item.to_token_stream().to_string())
            .collect()
    }

    #[test]
    fn items_of_a_list() {
        assert_eq!(
            items(quote::quote!(
                name = "x",
                crate = a::b,
                index(i = [a]),
                3,
                self
            )),
            [
                "name = \"x\"",
                "crate = a :: b",
                "index (i = [a])",
                "3",
                "self"
            ]
        );
        assert!(NestedMeta::parse_list(&quote::quote!(= 1)).is_err());
        assert!(NestedMeta::parse_list(&quote::quote!(a::)).is_err());
    }

    #[test]
    fn crate_paths() {
        for tokens in [
            quote::quote!(crate = my::orm),
            quote::quote!(crate = "my::orm"),
        ] {
            let meta: Meta = syn::parse2(tokens.clone())
                .or_else(|_| match NestedMeta::parse_list(&tokens)?.pop() {
                    Some(NestedMeta::Meta(meta)) => Ok(meta),
                    _ => Err(syn::Error::new(Span::call_site(), "no meta")),
                })
                .unwrap();
            assert_eq!(path_text(&crate_option(&meta, "table").unwrap()), "my::orm");
        }
    }
}
