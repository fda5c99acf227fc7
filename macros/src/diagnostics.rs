//! Diagnostics: the error accumulator every stage reports into, and the wording helpers the
//! messages share (suggestions for misspellings, lists).

use std::fmt::Display;

use quote::ToTokens;
use syn::Error;

/// The result type of the parsers: errors are `syn::Error`s, which keep the first and last
/// token of a spanned node so the diagnostic underlines all of it.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// An error underlining `tokens`.
pub(crate) fn error(tokens: impl ToTokens, message: impl Display) -> Error {
    Error::new_spanned(tokens, message)
}

/// "`option` is given twice in `attr`; keep one".
pub(crate) fn given_twice(option: &str, attr: &str, tokens: impl ToTokens) -> Error {
    error(
        tokens,
        format!("`{option}` is given twice in `{attr}`; keep one"),
    )
}

/// Collects errors so that one compilation reports all of them, in the order they were found.
/// Dropping it unfinished just drops the errors (it never panics).
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

/// The candidate closest to `word`, if it is close enough to be a likely misspelling. The
/// distance counts a swap of two adjacent characters as one edit (so `emial` is one edit away
/// from `email`).
pub(crate) fn suggest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(word, c), c))
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

/// "a", "a and b", "a, b and c".
pub(crate) fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn lists() {
        assert_eq!(backtick_list(["a", "b"]), "`a`, `b`");
        let items = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(join_and(&items(&[])), "");
        assert_eq!(join_and(&items(&["a"])), "a");
        assert_eq!(join_and(&items(&["a", "b", "c"])), "a, b and c");
    }
}
