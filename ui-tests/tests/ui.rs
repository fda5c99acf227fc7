//! Compile-fail and compile-pass cases for `#[derive(Table)]` and `#[derive(Column)]`.
//!
//! Every file in `tests/ui/fail/` states at its top the rule it checks; its `.stderr` is the
//! exact diagnostic users see. Regenerate the snapshots with
//! `TRYBUILD=overwrite cargo test -p redorm-ui-tests`, then read every changed `.stderr`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
