//! The planner on its own: one row per access shape `explain` can print, each asserting the
//! exact `describe` text and every field of the plan.
//!
//! Over 600 lines because it is one table of ~70 cases, each a few lines; splitting it would
//! only scatter the table.

use super::*;
use crate::Column;
use crate::StrColumn;
use crate::Table;
use crate::query::filter::Filter;

#[derive(crate::Table, Debug, Clone)]
#[table(
    crate = crate,
    name = "posts",
    index(by_author_created = [author, created]),
    index(by_status_score = [status, score])
)]
struct Post {
    author: u64,
    created: i64,
    #[unique]
    slug: String,
    #[index]
    title: String,
    #[index]
    tag: Option<String>,
    status: String,
    score: i64,
    body: String,
}

/// For the tie-breaks: several indexes sharing the leading column `a`.
#[derive(crate::Table, Debug, Clone)]
#[table(
    crate = crate,
    name = "ties",
    index(by_a_c = [a, c]),
    index(by_a_d = [a, d])
)]
struct Tie {
    #[index]
    a: u32,
    #[index]
    b: u32,
    c: u32,
    d: u32,
}

/// The key bytes of one value.
fn k<C: Column>(v: C) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode_key(&mut out).unwrap();
    out
}

/// A compound key: the values' keys one after the other.
fn cat(keys: &[Vec<u8>]) -> Vec<u8> {
    keys.concat()
}

fn range(lo: Option<(Vec<u8>, bool)>, hi: Option<(Vec<u8>, bool)>, parts: &[usize]) -> ColRange {
    ColRange {
        lo,
        hi,
        parts: parts.to_vec(),
    }
}

/// The range a `starts_with(prefix)` on a `String` column makes.
fn prefix_range(prefix: &str, parts: &[usize]) -> ColRange {
    let p = <String as StrColumn>::key_prefix(prefix);
    let hi = storage::prefix_upper_bound(&p).map(|u| (u, false));
    range(Some((p, true)), hi, parts)
}

#[derive(Debug, PartialEq)]
enum Want {
    Rows,
    Index {
        name: &'static str,
        probes: Vec<Vec<u8>>,
        range: ColRange,
    },
}

/// One row of the table. The builder's defaults are expectations too: every field of the
/// plan is compared, whether the row sets it or not.
struct Case {
    name: &'static str,
    schema: TableSchema,
    filter: Option<Expr>,
    order: Vec<(usize, bool)>,
    using: Option<&'static str>,
    describe: String,
    access: Want,
    pinned: Vec<usize>,
    residual: Option<String>,
    reverse: bool,
    merge: bool,
    sort: Option<Vec<(usize, bool)>>,
    full_scan: bool,
}

fn case<T: Table>(name: &'static str) -> Case {
    Case {
        name,
        schema: T::schema(),
        filter: None,
        order: Vec::new(),
        using: None,
        describe: String::new(),
        access: Want::Rows,
        pinned: Vec::new(),
        residual: None,
        reverse: false,
        merge: false,
        sort: None,
        full_scan: false,
    }
}

impl Case {
    fn filter<T>(mut self, f: Filter<T>) -> Self {
        self.filter = Some(f.expr);
        self
    }
    fn order(mut self, order: &[(usize, bool)]) -> Self {
        self.order = order.to_vec();
        self
    }
    fn using(mut self, index: &'static str) -> Self {
        self.using = Some(index);
        self
    }
    fn describe(mut self, lines: &[&str]) -> Self {
        self.describe = lines.iter().map(|l| format!("{l}\n")).collect();
        self
    }
    fn index(mut self, name: &'static str, probes: Vec<Vec<u8>>, range: ColRange) -> Self {
        self.access = Want::Index {
            name,
            probes,
            range,
        };
        self
    }
    fn pinned(mut self, parts: &[usize]) -> Self {
        self.pinned = parts.to_vec();
        self
    }
    fn residual(mut self, text: impl Into<String>) -> Self {
        self.residual = Some(text.into());
        self
    }
    fn reverse(mut self) -> Self {
        self.reverse = true;
        self
    }
    fn merge(mut self) -> Self {
        self.merge = true;
        self
    }
    fn sort(mut self, keys: &[(usize, bool)]) -> Self {
        self.sort = Some(keys.to_vec());
        self
    }
    fn full_scan(mut self) -> Self {
        self.full_scan = true;
        self
    }

    /// Plans the row and lists how the plan differs from the expectation.
    fn check(&self) -> Vec<String> {
        let using = self.using.map(|n| {
            self.schema
                .indexes
                .iter()
                .position(|i| i.name == n)
                .unwrap_or_else(|| panic!("{}: no index {n}", self.name))
        });
        let plan = plan(&self.schema, self.filter.as_ref(), &self.order, using);
        let mut diffs = Vec::new();
        let mut diff =
            |what: &str, ok: bool, got: &dyn std::fmt::Debug, want: &dyn std::fmt::Debug| {
                if !ok {
                    diffs.push(format!("{what}:\n   got: {got:?}\n  want: {want:?}"));
                }
            };
        let describe = plan.describe(&self.schema);
        diff(
            "describe",
            describe == self.describe,
            &describe,
            &self.describe,
        );
        let access = match &plan.access {
            Access::Rows => Want::Rows,
            Access::Index {
                index,
                probes,
                range,
            } => Want::Index {
                name: self.schema.indexes[*index].name,
                probes: probes.clone(),
                range: range.clone(),
            },
        };
        diff("access", access == self.access, &access, &self.access);
        diff(
            "pinned",
            plan.pinned == self.pinned,
            &plan.pinned,
            &self.pinned,
        );
        let residual = plan.residual.as_ref().map(ToString::to_string);
        diff(
            "residual",
            residual == self.residual,
            &residual,
            &self.residual,
        );
        diff(
            "reverse",
            plan.reverse == self.reverse,
            &plan.reverse,
            &self.reverse,
        );
        diff("merge", plan.merge == self.merge, &plan.merge, &self.merge);
        diff("sort", plan.sort == self.sort, &plan.sort, &self.sort);
        diff(
            "full_scan",
            plan.full_scan == self.full_scan,
            &plan.full_scan,
            &self.full_scan,
        );
        diff(
            "vis",
            plan.vis == Visibility::Live,
            &plan.vis,
            &Visibility::Live,
        );
        // The parts are the filter's top-level AND parts, in order.
        let parts: Vec<String> = plan.parts.iter().map(ToString::to_string).collect();
        let want_parts: Vec<String> = conjuncts(self.filter.as_ref())
            .iter()
            .map(ToString::to_string)
            .collect();
        diff("parts", parts == want_parts, &parts, &want_parts);
        diffs
    }
}

fn run(cases: Vec<Case>) {
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for c in &cases {
        assert!(names.insert(c.name), "two cases named {:?}", c.name);
        assert!(!c.describe.is_empty(), "{}: no describe text", c.name);
        let diffs = c.check();
        if !diffs.is_empty() {
            failures.push(format!("case {:?}:\n{}", c.name, diffs.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} planner cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

// Column positions (checked by `schemas_are_what_the_cases_assume`).
const AUTHOR: usize = 0;
const CREATED: usize = 1;
const TITLE: usize = 3;
const STATUS: usize = 5;
const SCORE: usize = 6;
const BODY: usize = 7;
const D: usize = 3;

/// `[0, 1, …, n-1]` as a filter prints a list.
fn list(n: u64) -> String {
    let v: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    format!("[{}]", v.join(", "))
}

#[test]
fn table_scans() {
    run(vec![
        case::<Post>("no filter, no order: the table by id")
            .describe(&["access: table scan in id order", "order: by id"]),
        case::<Post>("a filter no index serves: full scan with a post-filter")
            .filter(Post::body().eq("x"))
            .describe(&[
                "access: table scan in id order",
                "order: by id",
                "post-filter: body = \"x\"",
            ])
            .residual("body = \"x\"")
            .full_scan(),
        case::<Post>("ne on an indexed column is neither a pin nor a range")
            .filter(Post::author().ne(1u64))
            .describe(&[
                "access: table scan in id order",
                "order: by id",
                "post-filter: author != 1",
            ])
            .residual("author != 1")
            .full_scan(),
        case::<Post>("an or across two columns is a post-filter")
            .filter(Post::author().eq(1u64).or(Post::title().eq("a")))
            .describe(&[
                "access: table scan in id order",
                "order: by id",
                "post-filter: (author = 1 OR title = \"a\")",
            ])
            .residual("(author = 1 OR title = \"a\")")
            .full_scan(),
        case::<Post>("like with a leading wildcard is a post-filter")
            .filter(Post::title().like("%pha"))
            .describe(&[
                "access: table scan in id order",
                "order: by id",
                "post-filter: title like \"%pha\"",
            ])
            .residual("title like \"%pha\"")
            .full_scan(),
        case::<Post>("order on an unindexed column: full scan sorted in memory")
            .order(&[(BODY, false)])
            .describe(&[
                "access: table scan in id order",
                "order: sorted in memory by body asc",
            ])
            .sort(&[(BODY, false)])
            .full_scan(),
        case::<Post>("mixed directions no index serves: full scan sorted in memory")
            .order(&[(STATUS, false), (SCORE, true)])
            .describe(&[
                "access: table scan in id order",
                "order: sorted in memory by status asc, score desc",
            ])
            .sort(&[(STATUS, false), (SCORE, true)])
            .full_scan(),
    ]);
}

#[test]
fn equality_pins() {
    let null = NULL_KEY.to_vec();
    run(vec![
        case::<Post>("eq on a single-column index")
            .filter(Post::title().eq("alpha"))
            .describe(&[
                "access: index by_title (1 probe: title = \"alpha\")",
                "order: index order (ascending)",
            ])
            .index(
                "by_title",
                vec![k("alpha".to_string())],
                ColRange::default(),
            )
            .pinned(&[0]),
        case::<Post>("eq on the unique index")
            .filter(Post::slug().eq("hello"))
            .describe(&[
                "access: index by_slug (1 probe: slug = \"hello\")",
                "order: index order (ascending)",
            ])
            .index("by_slug", vec![k("hello".to_string())], ColRange::default())
            .pinned(&[0]),
        case::<Post>("eq on the leading column of a compound index")
            .filter(Post::author().eq(1u64))
            .describe(&[
                "access: index by_author_created (1 probe: author = 1)",
                "order: index order (ascending)",
            ])
            .index("by_author_created", vec![k(1u64)], ColRange::default())
            .pinned(&[0]),
        case::<Post>("eq on both columns of a compound index")
            .filter(Post::author().eq(1u64).and(Post::created().eq(20i64)))
            .describe(&[
                "access: index by_author_created (1 probe: author = 1, created = 20)",
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                vec![cat(&[k(1u64), k(20i64)])],
                ColRange::default(),
            )
            .pinned(&[0, 1]),
        case::<Post>("in_: one probe per value, in key order")
            .filter(Post::author().in_([3u64, 1]))
            .describe(&[
                "access: index by_author_created (2 probes: author IN [1, 3])",
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                vec![k(1u64), k(3u64)],
                ColRange::default(),
            )
            .pinned(&[0]),
        case::<Post>("in_ on both columns: the cross product of probes")
            .filter(
                Post::author()
                    .in_([1u64, 2])
                    .and(Post::created().in_([20i64, 10])),
            )
            .describe(&[
                "access: index by_author_created (4 probes: author IN [1, 2], created IN [10, 20])",
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                vec![
                    cat(&[k(1u64), k(10i64)]),
                    cat(&[k(1u64), k(20i64)]),
                    cat(&[k(2u64), k(10i64)]),
                    cat(&[k(2u64), k(20i64)]),
                ],
                ColRange::default(),
            )
            .pinned(&[0, 1]),
        case::<Post>("a same-column or of eqs: probes")
            .filter(Post::author().eq(3u64).or(Post::author().eq(1u64)))
            .describe(&[
                "access: index by_author_created (2 probes: (author = 3 OR author = 1))",
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                vec![k(1u64), k(3u64)],
                ColRange::default(),
            )
            .pinned(&[0]),
        case::<Post>("a same-column or of in_ and eq: values deduplicated")
            .filter(Post::author().in_([1u64, 2]).or(Post::author().eq(2u64)))
            .describe(&[
                "access: index by_author_created (2 probes: (author IN [1, 2] OR author = 2))",
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                vec![k(1u64), k(2u64)],
                ColRange::default(),
            )
            .pinned(&[0]),
        case::<Post>("two pins on one column: the fewest values pin, the other post-filters")
            .filter(Post::author().in_([1u64, 2]).and(Post::author().eq(2u64)))
            .describe(&[
                "access: index by_author_created (1 probe: author = 2)",
                "order: index order (ascending)",
                "post-filter: author IN [1, 2]",
            ])
            .index("by_author_created", vec![k(2u64)], ColRange::default())
            .pinned(&[1])
            .residual("author IN [1, 2]"),
        case::<Post>("an empty in_: zero probes")
            .filter(Post::author().in_(Vec::<u64>::new()))
            .describe(&[
                "access: index by_author_created (0 probes: author IN [])",
                "order: index order (ascending)",
            ])
            .index("by_author_created", vec![], ColRange::default())
            .pinned(&[0]),
        case::<Post>("is_null on an Option column pins the None key")
            .filter(Post::tag().is_null())
            .describe(&[
                "access: index by_tag (1 probe: tag IS NULL)",
                "order: index order (ascending)",
            ])
            .index("by_tag", vec![null.clone()], ColRange::default())
            .pinned(&[0]),
        case::<Post>("eq on an Option column pins the Some key")
            .filter(Post::tag().eq("rust"))
            .describe(&[
                "access: index by_tag (1 probe: tag = \"rust\")",
                "order: index order (ascending)",
            ])
            .index(
                "by_tag",
                vec![k(Some("rust".to_string()))],
                ColRange::default(),
            )
            .pinned(&[0]),
        case::<Post>("a same-column or of is_null and eq: two probes")
            .filter(Post::tag().is_null().or(Post::tag().eq("rust")))
            .describe(&[
                "access: index by_tag (2 probes: (tag IS NULL OR tag = \"rust\"))",
                "order: index order (ascending)",
            ])
            .index(
                "by_tag",
                vec![null, k(Some("rust".to_string()))],
                ColRange::default(),
            )
            .pinned(&[0]),
        case::<Post>("probe cap: a pin that would pass MAX_PROBES stays a post-filter")
            .filter(
                Post::author()
                    .in_(0..64u64)
                    .and(Post::created().in_(0..65i64)),
            )
            .describe(&[
                &format!(
                    "access: index by_author_created (64 probes: author IN {})",
                    list(64)
                ),
                "order: index order (ascending)",
                &format!("post-filter: created IN {}", list(65)),
            ])
            .index(
                "by_author_created",
                (0..64u64).map(k).collect(),
                ColRange::default(),
            )
            .pinned(&[0])
            .residual(format!("created IN {}", list(65))),
        case::<Post>("probe cap: exactly MAX_PROBES probes is allowed")
            .filter(
                Post::author()
                    .in_(0..64u64)
                    .and(Post::created().in_(0..64i64)),
            )
            .describe(&[
                &format!(
                    "access: index by_author_created (4096 probes: author IN {}, created IN {})",
                    list(64),
                    list(64)
                ),
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                (0..64u64)
                    .flat_map(|a| (0..64i64).map(move |c| cat(&[k(a), k(c)])))
                    .collect(),
                ColRange::default(),
            )
            .pinned(&[0, 1]),
        case::<Post>("probe cap: one in_ over MAX_PROBES pins nothing: full scan")
            .filter(Post::author().in_(0..5000u64))
            .describe(&[
                "access: table scan in id order",
                "order: by id",
                &format!("post-filter: author IN {}", list(5000)),
            ])
            .residual(format!("author IN {}", list(5000)))
            .full_scan(),
    ]);
}

#[test]
fn ranges() {
    let opt_prefix = <Option<String> as StrColumn>::key_prefix("ru");
    let opt_hi = storage::prefix_upper_bound(&opt_prefix).map(|u| (u, false));
    run(vec![
        case::<Post>("eq on the leading column plus a range on the next")
            .filter(
                Post::author()
                    .eq(1u64)
                    .and(Post::created().gt(10i64))
                    .and(Post::created().lte(40i64)),
            )
            .describe(&[
                "access: index by_author_created (1 probe: author = 1), range created > 10 AND created <= 40",
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                vec![k(1u64)],
                range(Some((k(10i64), false)), Some((k(40i64), true)), &[1, 2]),
            )
            .pinned(&[0]),
        case::<Post>("a range on the leading column, no pin")
            .filter(Post::title().gte("m"))
            .describe(&[
                "access: index by_title (1 probe), range title >= \"m\"",
                "order: index order (ascending)",
            ])
            .index(
                "by_title",
                vec![vec![]],
                range(Some((k("m".to_string()), true)), None, &[0]),
            ),
        case::<Post>("lt alone: an upper bound only")
            .filter(Post::title().lt("m"))
            .describe(&[
                "access: index by_title (1 probe), range title < \"m\"",
                "order: index order (ascending)",
            ])
            .index(
                "by_title",
                vec![vec![]],
                range(None, Some((k("m".to_string()), false)), &[0]),
            ),
        case::<Post>("between: both bounds inclusive")
            .filter(
                Post::author()
                    .eq(2u64)
                    .and(Post::created().between(5i64, 15i64)),
            )
            .describe(&[
                "access: index by_author_created (1 probe: author = 2), range created BETWEEN 5 AND 15",
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                vec![k(2u64)],
                range(Some((k(5i64), true)), Some((k(15i64), true)), &[1]),
            )
            .pinned(&[0]),
        case::<Post>("several range parts on one column intersect")
            .filter(
                Post::author()
                    .eq(1u64)
                    .and(Post::created().gt(5i64))
                    .and(Post::created().gte(10i64))
                    .and(Post::created().gt(10i64))
                    .and(Post::created().lte(40i64))
                    .and(Post::created().lt(40i64))
                    .and(Post::created().lt(50i64)),
            )
            .describe(&[
                "access: index by_author_created (1 probe: author = 1), range created > 5 AND created >= 10 AND created > 10 AND created <= 40 AND created < 40 AND created < 50",
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                vec![k(1u64)],
                range(
                    Some((k(10i64), false)),
                    Some((k(40i64), false)),
                    &[1, 2, 3, 4, 5, 6],
                ),
            )
            .pinned(&[0]),
        case::<Post>("between and a comparison intersect")
            .filter(
                Post::author()
                    .eq(1u64)
                    .and(Post::created().between(0i64, 100i64))
                    .and(Post::created().gte(50i64)),
            )
            .describe(&[
                "access: index by_author_created (1 probe: author = 1), range created BETWEEN 0 AND 100 AND created >= 50",
                "order: index order (ascending)",
            ])
            .index(
                "by_author_created",
                vec![k(1u64)],
                range(Some((k(50i64), true)), Some((k(100i64), true)), &[1, 2]),
            )
            .pinned(&[0]),
        case::<Post>("a range on a column after the next is a post-filter")
            .filter(Post::status().gt("a").and(Post::score().gt(3i64)))
            .describe(&[
                "access: index by_status_score (1 probe), range status > \"a\"",
                "order: index order (ascending)",
                "post-filter: score > 3",
            ])
            .index(
                "by_status_score",
                vec![vec![]],
                range(Some((k("a".to_string()), false)), None, &[0]),
            )
            .residual("score > 3"),
        case::<Post>("starts_with: a prefix range decided by the range alone")
            .filter(Post::title().starts_with("alpha"))
            .describe(&[
                "access: index by_title (1 probe), range title starts_with \"alpha\"",
                "order: index order (ascending)",
            ])
            .index("by_title", vec![vec![]], prefix_range("alpha", &[0])),
        case::<Post>("like 'literal%': a prefix range decided by the range alone")
            .filter(Post::title().like("alpha%"))
            .describe(&[
                "access: index by_title (1 probe), range title like \"alpha%\"",
                "order: index order (ascending)",
            ])
            .index("by_title", vec![vec![]], prefix_range("alpha", &[0])),
        case::<Post>("like 'literal%x': a prefix range and a post-filter")
            .filter(Post::title().like("alpha%t"))
            .describe(&[
                "access: index by_title (1 probe), range title like \"alpha%t\"",
                "order: index order (ascending)",
                "post-filter: title like \"alpha%t\"",
            ])
            .index("by_title", vec![vec![]], prefix_range("alpha", &[0]))
            .residual("title like \"alpha%t\""),
        case::<Post>("like without wildcards: a prefix range and a post-filter")
            .filter(Post::title().like("alpha"))
            .describe(&[
                "access: index by_title (1 probe), range title like \"alpha\"",
                "order: index order (ascending)",
                "post-filter: title like \"alpha\"",
            ])
            .index("by_title", vec![vec![]], prefix_range("alpha", &[0]))
            .residual("title like \"alpha\""),
        case::<Post>("like with '_' inside: the range is the literal before it")
            .filter(Post::title().like("al_ha%"))
            .describe(&[
                "access: index by_title (1 probe), range title like \"al_ha%\"",
                "order: index order (ascending)",
                "post-filter: title like \"al_ha%\"",
            ])
            .index("by_title", vec![vec![]], prefix_range("al", &[0]))
            .residual("title like \"al_ha%\""),
        case::<Post>("starts_with on an Option<String> column: a range over Some keys")
            .filter(Post::tag().starts_with("ru"))
            .describe(&[
                "access: index by_tag (1 probe), range tag starts_with \"ru\"",
                "order: index order (ascending)",
            ])
            .index(
                "by_tag",
                vec![vec![]],
                range(Some((opt_prefix.clone(), true)), opt_hi, &[0]),
            ),
        case::<Post>("starts_with and a range on one column intersect")
            .filter(
                Post::title()
                    .starts_with("alpha")
                    .and(Post::title().lt("alphabet")),
            )
            .describe(&[
                "access: index by_title (1 probe), range title starts_with \"alpha\" AND title < \"alphabet\"",
                "order: index order (ascending)",
            ])
            .index(
                "by_title",
                vec![vec![]],
                range(
                    Some((<String as StrColumn>::key_prefix("alpha"), true)),
                    Some((k("alphabet".to_string()), false)),
                    &[0, 1],
                ),
            ),
        case::<Post>("a residual post-filter beside an index")
            .filter(Post::status().eq("live").and(Post::title().contains("e")))
            .describe(&[
                "access: index by_status_score (1 probe: status = \"live\")",
                "order: index order (ascending)",
                "post-filter: title contains \"e\"",
            ])
            .index("by_status_score", vec![k("live".to_string())], ColRange::default())
            .pinned(&[0])
            .residual("title contains \"e\""),
        case::<Post>("several post-filters beside an index print as one AND")
            .filter(
                Post::status()
                    .eq("live")
                    .and(Post::title().contains("e"))
                    .and(Post::body().ne("x")),
            )
            .describe(&[
                "access: index by_status_score (1 probe: status = \"live\")",
                "order: index order (ascending)",
                "post-filter: (title contains \"e\" AND body != \"x\")",
            ])
            .index("by_status_score", vec![k("live".to_string())], ColRange::default())
            .pinned(&[0])
            .residual("(title contains \"e\" AND body != \"x\")"),
    ]);
}

#[test]
fn order() {
    run(vec![
        case::<Post>("order served by the index, ascending")
            .filter(Post::author().eq(1u64))
            .order(&[(CREATED, false)])
            .describe(&[
                "access: index by_author_created (1 probe: author = 1)",
                "order: index order (ascending)",
            ])
            .index("by_author_created", vec![k(1u64)], ColRange::default())
            .pinned(&[0]),
        case::<Post>("order served by the index, descending: reverse scan")
            .filter(Post::author().eq(1u64))
            .order(&[(CREATED, true)])
            .describe(&[
                "access: index by_author_created (1 probe: author = 1)",
                "order: served by the index (descending)",
            ])
            .index("by_author_created", vec![k(1u64)], ColRange::default())
            .pinned(&[0])
            .reverse(),
        case::<Post>("order on a column pinned to one value is skipped")
            .filter(Post::author().eq(1u64))
            .order(&[(AUTHOR, false), (CREATED, true)])
            .describe(&[
                "access: index by_author_created (1 probe: author = 1)",
                "order: served by the index (descending)",
            ])
            .index("by_author_created", vec![k(1u64)], ColRange::default())
            .pinned(&[0])
            .reverse(),
        case::<Post>("order only on a column pinned to one value")
            .filter(Post::author().eq(1u64))
            .order(&[(AUTHOR, true)])
            .describe(&[
                "access: index by_author_created (1 probe: author = 1)",
                "order: index order (ascending)",
            ])
            .index("by_author_created", vec![k(1u64)], ColRange::default())
            .pinned(&[0]),
        case::<Post>("order on the range column, descending")
            .filter(Post::author().eq(1u64).and(Post::created().gt(10i64)))
            .order(&[(CREATED, true)])
            .describe(&[
                "access: index by_author_created (1 probe: author = 1), range created > 10",
                "order: served by the index (descending)",
            ])
            .index(
                "by_author_created",
                vec![k(1u64)],
                range(Some((k(10i64), false)), None, &[1]),
            )
            .pinned(&[0])
            .reverse(),
        case::<Post>("order by an indexed column, no filter: reads that index")
            .order(&[(TITLE, false)])
            .describe(&[
                "access: index by_title (1 probe)",
                "order: index order (ascending)",
            ])
            .index("by_title", vec![vec![]], ColRange::default()),
        case::<Post>("order desc by an indexed column, no filter: reverse scan")
            .order(&[(TITLE, true)])
            .describe(&[
                "access: index by_title (1 probe)",
                "order: served by the index (descending)",
            ])
            .index("by_title", vec![vec![]], ColRange::default())
            .reverse(),
        case::<Post>("order by both columns of a compound index, descending")
            .order(&[(STATUS, true), (SCORE, true)])
            .describe(&[
                "access: index by_status_score (1 probe)",
                "order: served by the index (descending)",
            ])
            .index("by_status_score", vec![vec![]], ColRange::default())
            .reverse(),
        case::<Post>("order served, filter not: index read with a full-scan post-filter")
            .filter(Post::body().eq("x"))
            .order(&[(TITLE, false)])
            .describe(&[
                "access: index by_title (1 probe)",
                "order: index order (ascending)",
                "post-filter: body = \"x\"",
            ])
            .index("by_title", vec![vec![]], ColRange::default())
            .residual("body = \"x\"")
            .full_scan(),
        case::<Post>("order not served by the chosen index: sorted in memory")
            .filter(Post::author().eq(1u64))
            .order(&[(TITLE, true)])
            .describe(&[
                "access: index by_author_created (1 probe: author = 1)",
                "order: sorted in memory by title desc",
            ])
            .index("by_author_created", vec![k(1u64)], ColRange::default())
            .pinned(&[0])
            .sort(&[(TITLE, true)]),
        case::<Post>("order longer than the index's remaining columns: sorted in memory")
            .filter(Post::author().eq(1u64))
            .order(&[(CREATED, false), (TITLE, false)])
            .describe(&[
                "access: index by_author_created (1 probe: author = 1)",
                "order: sorted in memory by created asc, title asc",
            ])
            .index("by_author_created", vec![k(1u64)], ColRange::default())
            .pinned(&[0])
            .sort(&[(CREATED, false), (TITLE, false)]),
        case::<Post>("order on a multi-valued pinned column: sorted in memory")
            .filter(Post::author().in_([1u64, 3]))
            .order(&[(AUTHOR, false)])
            .describe(&[
                "access: index by_author_created (2 probes: author IN [1, 3])",
                "order: sorted in memory by author asc",
            ])
            .index(
                "by_author_created",
                vec![k(1u64), k(3u64)],
                ColRange::default(),
            )
            .pinned(&[0])
            .sort(&[(AUTHOR, false)]),
        case::<Post>("several probes merged in order, descending")
            .filter(Post::author().in_([3u64, 1]))
            .order(&[(CREATED, true)])
            .describe(&[
                "access: index by_author_created (2 probes: author IN [1, 3])",
                "order: served by the index (descending), probes merged",
            ])
            .index(
                "by_author_created",
                vec![k(1u64), k(3u64)],
                ColRange::default(),
            )
            .pinned(&[0])
            .reverse()
            .merge(),
        case::<Post>("several probes (same-column or) merged in order, ascending")
            .filter(Post::author().eq(3u64).or(Post::author().eq(1u64)))
            .order(&[(CREATED, false)])
            .describe(&[
                "access: index by_author_created (2 probes: (author = 3 OR author = 1))",
                "order: served by the index (ascending), probes merged",
            ])
            .index(
                "by_author_created",
                vec![k(1u64), k(3u64)],
                ColRange::default(),
            )
            .pinned(&[0])
            .merge(),
        case::<Post>("several probes and a range, merged in order")
            .filter(Post::author().in_([1u64, 3]).and(Post::created().lt(30i64)))
            .order(&[(CREATED, false)])
            .describe(&[
                "access: index by_author_created (2 probes: author IN [1, 3]), range created < 30",
                "order: served by the index (ascending), probes merged",
            ])
            .index(
                "by_author_created",
                vec![k(1u64), k(3u64)],
                range(None, Some((k(30i64), false)), &[1]),
            )
            .pinned(&[0])
            .merge(),
    ]);
}

#[test]
fn forced_index() {
    run(vec![
        case::<Post>("using an index the filter does not narrow: full scan, post-filter")
            .filter(Post::author().eq(1u64))
            .using("by_title")
            .describe(&[
                "access: index by_title (1 probe)",
                "order: index order (ascending)",
                "post-filter: author = 1",
            ])
            .index("by_title", vec![vec![]], ColRange::default())
            .residual("author = 1")
            .full_scan(),
        case::<Post>("using an index the rule would not choose")
            .filter(
                Post::author()
                    .eq(1u64)
                    .and(Post::created().eq(2i64))
                    .and(Post::title().eq("a")),
            )
            .using("by_title")
            .describe(&[
                "access: index by_title (1 probe: title = \"a\")",
                "order: index order (ascending)",
                "post-filter: (author = 1 AND created = 2)",
            ])
            .index("by_title", vec![k("a".to_string())], ColRange::default())
            .pinned(&[2])
            .residual("(author = 1 AND created = 2)"),
        case::<Post>("using an index that serves the order only")
            .order(&[(TITLE, true)])
            .using("by_title")
            .describe(&[
                "access: index by_title (1 probe)",
                "order: served by the index (descending)",
            ])
            .index("by_title", vec![vec![]], ColRange::default())
            .reverse(),
        case::<Post>("using an index that serves neither filter nor order")
            .order(&[(BODY, false)])
            .using("by_title")
            .describe(&[
                "access: index by_title (1 probe)",
                "order: sorted in memory by body asc",
            ])
            .index("by_title", vec![vec![]], ColRange::default())
            .sort(&[(BODY, false)])
            .full_scan(),
        case::<Post>("using an index with no filter and no order")
            .using("by_slug")
            .describe(&[
                "access: index by_slug (1 probe)",
                "order: index order (ascending)",
            ])
            .index("by_slug", vec![vec![]], ColRange::default()),
    ]);
}

#[test]
fn tie_breaks() {
    // Tie's indexes, declared in this order: by_a [a], by_b [b], by_a_c [a, c], by_a_d [a, d].
    run(vec![
        case::<Tie>("most pinned columns wins over declared first")
            .filter(
                Tie::b()
                    .eq(3u32)
                    .and(Tie::a().eq(1u32))
                    .and(Tie::c().eq(2u32)),
            )
            .describe(&[
                "access: index by_a_c (1 probe: a = 1, c = 2)",
                "order: index order (ascending)",
                "post-filter: b = 3",
            ])
            .index(
                "by_a_c",
                vec![cat(&[k(1u32), k(2u32)])],
                ColRange::default(),
            )
            .pinned(&[1, 2])
            .residual("b = 3"),
        case::<Tie>("more pinned columns beats a range")
            .filter(
                Tie::a()
                    .eq(1u32)
                    .and(Tie::c().eq(2u32))
                    .and(Tie::d().gt(5u32)),
            )
            .describe(&[
                "access: index by_a_c (1 probe: a = 1, c = 2)",
                "order: index order (ascending)",
                "post-filter: d > 5",
            ])
            .index(
                "by_a_c",
                vec![cat(&[k(1u32), k(2u32)])],
                ColRange::default(),
            )
            .pinned(&[0, 1])
            .residual("d > 5"),
        case::<Tie>("equal pins: the one with a range wins")
            .filter(
                Tie::b()
                    .eq(3u32)
                    .and(Tie::a().eq(1u32))
                    .and(Tie::d().gt(2u32)),
            )
            .describe(&[
                "access: index by_a_d (1 probe: a = 1), range d > 2",
                "order: index order (ascending)",
                "post-filter: b = 3",
            ])
            .index(
                "by_a_d",
                vec![k(1u32)],
                range(Some((k(2u32), false)), None, &[2]),
            )
            .pinned(&[1])
            .residual("b = 3"),
        case::<Tie>("a range beats serving the order")
            .filter(Tie::a().eq(1u32).and(Tie::c().gt(5u32)))
            .order(&[(D, false)])
            .describe(&[
                "access: index by_a_c (1 probe: a = 1), range c > 5",
                "order: sorted in memory by d asc",
            ])
            .index(
                "by_a_c",
                vec![k(1u32)],
                range(Some((k(5u32), false)), None, &[1]),
            )
            .pinned(&[0])
            .sort(&[(D, false)]),
        case::<Tie>("equal pins, no range: the one serving the order wins")
            .filter(Tie::b().eq(3u32).and(Tie::a().eq(1u32)))
            .order(&[(D, true)])
            .describe(&[
                "access: index by_a_d (1 probe: a = 1)",
                "order: served by the index (descending)",
                "post-filter: b = 3",
            ])
            .index("by_a_d", vec![k(1u32)], ColRange::default())
            .pinned(&[1])
            .residual("b = 3")
            .reverse(),
        case::<Tie>("serving the order beats fewer probes")
            .filter(Tie::a().in_([1u32, 2]).and(Tie::b().eq(3u32)))
            .order(&[(D, false)])
            .describe(&[
                "access: index by_a_d (2 probes: a IN [1, 2])",
                "order: served by the index (ascending), probes merged",
                "post-filter: b = 3",
            ])
            .index("by_a_d", vec![k(1u32), k(2u32)], ColRange::default())
            .pinned(&[0])
            .residual("b = 3")
            .merge(),
        case::<Tie>("all else equal: fewer probes wins over declared first")
            .filter(Tie::a().in_([1u32, 2, 3]).and(Tie::b().eq(4u32)))
            .describe(&[
                "access: index by_b (1 probe: b = 4)",
                "order: index order (ascending)",
                "post-filter: a IN [1, 2, 3]",
            ])
            .index("by_b", vec![k(4u32)], ColRange::default())
            .pinned(&[1])
            .residual("a IN [1, 2, 3]"),
        case::<Tie>("all else equal: the index declared first, not the part written first")
            .filter(Tie::b().eq(4u32).and(Tie::a().eq(1u32)))
            .describe(&[
                "access: index by_a (1 probe: a = 1)",
                "order: index order (ascending)",
                "post-filter: b = 4",
            ])
            .index("by_a", vec![k(1u32)], ColRange::default())
            .pinned(&[1])
            .residual("b = 4"),
    ]);
}

#[test]
fn schemas_are_what_the_cases_assume() {
    let names = |s: TableSchema| -> Vec<(&'static str, Vec<usize>, bool)> {
        s.indexes
            .iter()
            .map(|i| (i.name, i.columns.clone(), i.unique))
            .collect()
    };
    assert_eq!(
        names(Post::schema()),
        [
            ("by_slug", vec![2], true),
            ("by_title", vec![3], false),
            ("by_tag", vec![4], false),
            ("by_author_created", vec![0, 1], false),
            ("by_status_score", vec![5, 6], false),
        ]
    );
    assert_eq!(
        names(Tie::schema()),
        [
            ("by_a", vec![0], false),
            ("by_b", vec![1], false),
            ("by_a_c", vec![0, 2], false),
            ("by_a_d", vec![0, 3], false),
        ]
    );
    assert_eq!(Post::created().asc().column(), CREATED);
    assert_eq!(Post::body().asc().column(), BODY);
    assert_eq!(Tie::d().asc().column(), D);
    // The probe-cap cases use 64 x 64 = MAX_PROBES.
    assert_eq!(MAX_PROBES, 64 * 64);
    // `is_null` pins the key `None` encodes to.
    assert_eq!(NULL_KEY, k(None::<String>).as_slice());
}
