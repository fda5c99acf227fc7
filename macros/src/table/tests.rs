//! Unit tests of `#[derive(Table)]`: the generated code's key parts, and how many errors a
//! faulty input reports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use syn::DeriveInput;

use super::*;

fn expand_str(input: DeriveInput) -> String {
    derive_table(input).to_string().replace(' ', "")
}

/// The output after errors: the fallback `Table` impl and column descriptors, nothing more.
fn assert_is_fallback(code: &str, ident: &str) {
    assert!(
        code.contains(&format!("impl::redorm::__private::Tablefor{ident}")),
        "{code}"
    );
    assert!(!code.contains("encode_field"), "{code}");
    assert!(!code.contains("index_def"), "{code}");
}

#[test]
fn fallback_after_errors() {
    let code = expand_str(syn::parse_quote! {
        #[table(crate = my::orm)]
        struct Broken { id: u64, #[belongs_to(owner, User)] owner_id: Id<Self> }
    });
    assert_eq!(code.matches("compile_error").count(), 1, "{code}");
    assert!(
        code.contains("implmy::orm::__private::TableforBroken"),
        "{code}"
    );
    assert!(
        code.contains("constfnid()->my::orm::__private::Col<Broken,u64>"),
        "{code}"
    );
    assert!(
        code.contains("constfnowner_id()->my::orm::__private::Col<Broken,Id<Broken>>"),
        "{code}"
    );
    // None for a generic struct: the impl would need bounds of its own.
    let code = expand_str(syn::parse_quote!(
        struct G<T> {
            a: T,
        }
    ));
    assert_eq!(code.matches("compile_error").count(), 1, "{code}");
    assert!(!code.contains("impl"), "{code}");
}

#[test]
fn generated_code_only_uses_the_private_module() {
    let code = expand_str(syn::parse_quote! {
        #[table(index(by_ab = [a, b]))]
        pub struct S { #[unique] pub a: String, #[default(0)] b: u64 }
    });
    assert!(code.starts_with("const_:()={"), "{code}");
    assert!(
        code.contains("impl::redorm::__private::TableforS"),
        "{code}"
    );
    assert!(code.contains("\"by_ab\",::redorm::__private::Vec::from([0usize,1usize]),false,false"));
    assert!(code.contains("UniqueIndex<S,(String,)>"), "{code}");
    assert!(
        !code.contains("panic") && !code.contains("unwrap"),
        "{code}"
    );
}

#[test]
fn crate_path_is_honoured() {
    for input in [
        syn::parse_quote!(
            #[table(crate = my::orm)]
            struct S {
                a: u8,
            }
        ),
        syn::parse_quote!(
            #[table(crate = "my::orm")]
            struct S {
                a: u8,
            }
        ),
    ] {
        let code = expand_str(input);
        assert!(code.contains("implmy::orm::__private::TableforS"), "{code}");
        assert!(!code.contains("::redorm"), "{code}");
    }
}

#[test]
fn crate_itself() {
    for input in [
        syn::parse_quote!(
            #[table(crate = crate)]
            struct S {
                a: u8,
            }
        ),
        syn::parse_quote!(
            #[table(crate = "crate")]
            struct S {
                a: u8,
            }
        ),
    ] {
        let code = expand_str(input);
        assert!(code.contains("implcrate::__private::TableforS"), "{code}");
    }
}

#[test]
fn delete_modes() {
    let code = expand_str(syn::parse_quote!(
        struct S {
            a: u8,
        }
    ));
    assert!(
        code.contains("delete:::redorm::__private::DeleteMode::Hard"),
        "{code}"
    );
    let code = expand_str(syn::parse_quote!(
        #[table(delete = soft)]
        struct S {
            a: u8,
        }
    ));
    assert!(
        code.contains("delete:::redorm::__private::DeleteMode::Soft"),
        "{code}"
    );
    let code = expand_str(syn::parse_quote!(
        #[table(delete = scheduled(delay = "30d"))]
        struct S {
            a: u8,
        }
    ));
    assert!(
        code.contains("DeleteMode::Scheduled{delay_ms:2592000000u64}"),
        "{code}"
    );
    for bad in [
        quote::quote!(#[table(delete = scheduled(delay = "30"))]),
        quote::quote!(#[table(delete = scheduled)]),
        quote::quote!(#[table(delete = scheduled(delay = 30))]),
        quote::quote!(#[table(delete = scheduled(dealy = "1d"))]),
        quote::quote!(#[table(delete = sotf)]),
        quote::quote!(#[table(delete = "soft")]),
        quote::quote!(#[table(delete = soft(x))]),
        quote::quote!(#[table(delete = soft, delete = hard)]),
    ] {
        let input: DeriveInput = syn::parse_quote!(#bad struct S { a: u8 });
        let code = expand_str(input);
        assert_eq!(code.matches("compile_error").count(), 1, "{bad}: {code}");
    }
}

#[test]
fn delays() {
    use super::check::parse_delay;
    assert_eq!(parse_delay("500ms"), Ok(500));
    assert_eq!(parse_delay("90s"), Ok(90_000));
    assert_eq!(parse_delay("15m"), Ok(900_000));
    assert_eq!(parse_delay("12h"), Ok(43_200_000));
    assert_eq!(parse_delay("30d"), Ok(2_592_000_000));
    assert_eq!(parse_delay("2w"), Ok(1_209_600_000));
    assert_eq!(parse_delay("18446744073709551615ms"), Ok(u64::MAX));
    let meant = |s: &str| Err(format!("did you mean `\"{s}\"`?"));
    assert_eq!(parse_delay("30 days"), meant("30d"));
    assert_eq!(parse_delay("30D"), meant("30d"));
    assert_eq!(parse_delay("2 Weeks"), meant("2w"));
    assert_eq!(parse_delay("90sec"), meant("90s"));
    assert_eq!(parse_delay("5 ms"), meant("5ms"));
    assert_eq!(parse_delay("30x"), Err("`x` is not a unit".to_string()));
    for bad in [
        "",
        "d",
        "30",
        "0d",
        "30 d",
        "30D",
        "-1d",
        "1.5h",
        "30dd",
        "18446744073709551616ms",
        "18446744073709551615s",
        "99999999999999999999999d",
    ] {
        assert!(parse_delay(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn belongs_to_creates_or_reuses_an_index() {
    let code = expand_str(syn::parse_quote! {
        struct Post {
            title: String,
            #[belongs_to(author, User, on_delete = cascade, on_soft_delete = cascade)]
            author_id: Id<User>,
        }
    });
    assert!(
        code.contains(
            "index_def(\"by_author_id\",::redorm::__private::Vec::from([1usize]),false,false)"
        ),
        "{code}"
    );
    assert!(
        code.contains("foreign_key::<__RedormTarget,__RedormField>(\"author\",column,::redorm::__private::OnDelete::Cascade,::redorm::__private::OnSoftDelete::Cascade,)"),
        "{code}"
    );
    assert!(code.contains("author::<User,Id<User>>(1usize)"), "{code}");
    assert!(code.contains("relation_def::<User>(\"author\")"), "{code}");
    assert!(
        code.contains(
            "fnauthor()->::redorm::__private::Relation<Self,User,::redorm::__private::ToOne>"
        ),
        "{code}"
    );
    assert!(code.contains("fnby_author_id()"), "{code}");

    // A declared index starting with the field serves.
    for input in [
        syn::parse_quote! {
            struct Post { #[unique] #[belongs_to(author, User)] author_id: Id<User> }
        },
        syn::parse_quote! {
            #[table(index(by_author_title = [author_id, title]))]
            struct Post { #[belongs_to(author, User)] author_id: Id<User>, title: String }
        },
    ] {
        let code = expand_str(input);
        assert_eq!(code.matches("index_def(").count(), 1, "{code}");
    }
    // One where it comes second does not.
    let code = expand_str(syn::parse_quote! {
        #[table(index(by_title_author = [title, author_id]))]
        struct Post { #[belongs_to(author, User)] author_id: Id<User>, title: String }
    });
    assert_eq!(code.matches("index_def(").count(), 2, "{code}");
    assert!(code.contains("index_def(\"by_author_id\""), "{code}");
}

#[test]
fn self_is_the_struct_in_relations() {
    let code = expand_str(syn::parse_quote! {
        #[has_many(reports, Self, by = manager_id)]
        struct User {
            #[belongs_to(manager, Self, on_delete = set_null)]
            manager_id: Option<Id<Self>>,
        }
    });
    assert!(
        code.contains("manager::<User,Option<Id<User>>>(0usize)"),
        "{code}"
    );
    assert!(
        code.contains("assert_nullable::<Option<Id<User>>>"),
        "{code}"
    );
    assert!(
        code.contains("has_many::<User,User,__RedormField>(\"reports\",by)"),
        "{code}"
    );
    assert!(code.contains("reports(User::manager_id())"), "{code}");
}

#[test]
fn relation_mistakes_are_reported() {
    for (input, errors) in [
        // missing `by`, unknown option, missing target
        (
            quote::quote! {
                #[has_many(posts, Post)]
                #[has_one(profile, Profile, bye = user_id)]
                #[has_many(comments)]
                struct User { a: u8 }
            },
            3,
        ),
        // names clash with a field, an index and each other
        (
            quote::quote! {
                #[has_many(a, Post, by = user_id)]
                #[has_many(by_b, Post, by = user_id)]
                #[has_many(posts, Post, by = user_id)]
                #[has_one(posts, Post, by = user_id)]
                struct User { a: u8, #[index] b: u8 }
            },
            3,
        ),
        // many_to_many without its join, set_default without a default, bad action
        (
            quote::quote! {
                #[many_to_many(groups, Group, from = user_id)]
                struct User {
                    #[belongs_to(team, Team, on_delete = set_default)]
                    team_id: Id<Team>,
                    #[belongs_to(boss, Self, on_delete = cascde, on_soft_delete = keep)]
                    boss_id: Id<Self>,
                }
            },
            4,
        ),
        // misplaced relation attributes; a self-relation through a missing field
        (
            quote::quote! {
                #[belongs_to(team, Team)]
                #[has_many(reports, User, by = boss)]
                struct User {
                    #[has_many(posts, Post, by = user_id)]
                    boss_id: Id<User>,
                }
            },
            3,
        ),
        // quoted names, a relation named by a path, twice on one field
        (
            quote::quote! {
                #[has_many("posts", Post, by = user_id)]
                #[has_many(a::b, Post, by = user_id)]
                struct User {
                    #[belongs_to(team, Team)]
                    #[belongs_to(group, Group)]
                    team_id: Id<Team>,
                }
            },
            3,
        ),
    ] {
        let input: DeriveInput = syn::parse_quote!(#input);
        let code = expand_str(input);
        assert_eq!(code.matches("compile_error").count(), errors, "{code}");
        assert_is_fallback(&code, "User");
    }
}

#[test]
fn errors_are_accumulated() {
    let code = expand_str(syn::parse_quote! {
        #[table(nmae = "x", index(i = []))]
        struct S { id: u8, #[default] a: u8, #[unique(bad)] b: u8 }
    });
    assert_eq!(code.matches("compile_error").count(), 5, "{code}");
    assert_is_fallback(&code, "S");
}
