//! Helpers shared by the derives: naming, suggestions, option parsing.

use std::fmt::Display;

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Error, Meta, Path};

/// The result type of the parsers: errors are `syn::Error`s, which keep the first and last
/// token of a spanned node so the diagnostic underlines all of it.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// An error underlining `tokens`.
pub(crate) fn error(tokens: impl ToTokens, message: impl Display) -> Error {
    Error::new_spanned(tokens, message)
}

/// Collects errors so that one compilation reports all of them. Unlike darling's accumulator it
/// never panics: dropping it unfinished just drops the errors.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    /// Records an error.
    pub(crate) fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Records the error of `result`, if any, and returns its value.
    pub(crate) fn handle<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(error);
                None
            }
        }
    }

    /// Whether no error was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// `Err` with all recorded errors, or `Ok(value)` if there were none.
    pub(crate) fn finish_with<T>(self, value: T) -> Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }

    /// `Err` with all recorded errors, or `Ok(())`.
    pub(crate) fn finish(self) -> Result<()> {
        self.finish_with(())
    }
}

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

/// Edit distance between two strings, counting a swap of two adjacent characters as one edit
/// (so `emial` is one edit away from `email`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        if let Some(first) = row.first_mut() {
            *first = i;
        }
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a likely misspelling.
pub(crate) fn suggest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|&(d, c)| d > 0 && (d <= 1 || d * 3 <= word.len().max(c.len())))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Continues a message about an unknown `word`: ": did you mean `x`? Then the rest" when a
/// candidate is close, else "; then the rest".
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I, rest: &str) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match suggest(word, candidates) {
        Some(s) => {
            let mut chars = rest.chars();
            let rest = match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            };
            format!(": did you mean `{s}`? {rest}")
        }
        None => format!("; {rest}"),
    }
}

/// "`a`, `b`, `c`".
pub(crate) fn backtick_list<'a, I>(items: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replaces every `Self` in a type with the struct's name, so the type can be written outside
/// the struct's impl blocks.
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

/// Parses the items of an attribute's list, e.g. `#[table(a = 1, b)]`, reporting a parse error
/// at the attribute.
pub(crate) fn nested_items(tokens: &TokenStream) -> Result<Vec<NestedMeta>> {
    NestedMeta::parse_meta_list(tokens.clone())
}

/// `crate = path` or `crate = "path"`.
pub(crate) fn parse_crate_option(meta: &Meta, attr: &str) -> Result<Path> {
    let hint = || {
        error(
            meta,
            format!(
                "expected the path of the redorm crate: `#[{attr}(crate = some::path)]` or \
                 `#[{attr}(crate = \"some::path\")]`"
            ),
        )
    };
    match meta {
        Meta::NameValue(_) => Path::from_meta(meta).map_err(|_| hint()),
        _ => Err(hint()),
    }
}

/// The default crate path, `::redorm`.
pub(crate) fn default_crate() -> Path {
    let mut path = Path::from(Ident::new("redorm", Span::call_site()));
    path.leading_colon = Some(Default::default());
    path
}

/// The text of a path, for messages: `a::b`.
pub(crate) fn path_text(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
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
    fn suggestions() {
        assert_eq!(
            suggest("nmae", ["name", "crate", "index", "unique"]),
            Some("name")
        );
        assert_eq!(suggest("emial", ["email", "name"]), Some("email"));
        assert_eq!(
            suggest("uniq", ["name", "crate", "index", "unique"]),
            Some("unique")
        );
        assert_eq!(
            suggest("delete", ["name", "crate", "index", "unique"]),
            None
        );
        assert_eq!(suggest("name", ["name"]), None);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(
            did_you_mean("nmae", ["name"], "the options are x"),
            ": did you mean `name`? The options are x"
        );
        assert_eq!(
            did_you_mean("zzz", ["name"], "the options are x"),
            "; the options are x"
        );
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
