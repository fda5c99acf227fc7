//! The design's blog schema with every kind of relation: `belongs_to` with each `on_delete`,
//! `has_many`, `has_one`, `many_to_many` through a join table with a payload, a self-relation
//! (manager / reports), two relations between the same tables (author / reviewer), soft and
//! scheduled deletion. Checks the descriptor types, the generated schema, and the row accessors
//! the runtime uses for foreign-key actions.
#![deny(warnings)]

use std::any::TypeId;

use redorm::prelude::*;
use redorm::{
    DeleteMode, ForeignKeyDef, Index, OnDelete, OnSoftDelete, Relation, RelationDef, ToMany, ToOne,
    UniqueIndex,
};

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", delete = soft)]
#[has_many(posts, Post, by = author_id)]
#[has_many(reviews, Post, by = reviewer_id)]
#[has_one(profile, Profile, by = user_id)]
#[has_many(reports, Self, by = manager_id)]
#[many_to_many(groups, Group, through = Membership, from = user_id, to = group_id)]
pub struct User {
    #[unique]
    pub email: String,
    pub name: String,
    #[default("member")]
    pub role: String,
    #[belongs_to(manager, User, on_delete = set_null)]
    pub manager_id: Option<Id<User>>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "profiles")]
pub struct Profile {
    #[unique]
    #[belongs_to(user, User, on_delete = cascade, on_soft_delete = cascade)]
    pub user_id: Id<User>,
    pub bio: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(
    name = "posts",
    delete = scheduled(delay = "30d"),
    index(by_author_created = [author_id, created])
)]
#[has_many(comments, Comment, by = post_id)]
pub struct Post {
    #[belongs_to(author, User, on_delete = cascade, on_soft_delete = cascade)]
    pub author_id: Id<User>,
    #[belongs_to(reviewer, User, on_delete = set_null)]
    pub reviewer_id: Option<Id<User>>,
    pub title: String,
    pub published: bool,
    pub created: i64,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "comments", delete = scheduled(delay = "500ms"))]
pub struct Comment {
    #[belongs_to(post, Post, on_delete = cascade)]
    pub post_id: Id<Post>,
    #[default(Id::from_raw(1))]
    #[belongs_to(author, User, on_delete = set_default)]
    pub author_id: Id<User>,
    pub body: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "groups")]
#[many_to_many(members, User, through = Membership, from = group_id, to = user_id)]
#[has_many(memberships, Membership, by = group_id)]
pub struct Group {
    #[unique]
    pub name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "memberships", unique(by_pair = [user_id, group_id]))]
pub struct Membership {
    #[belongs_to(user, User, on_delete = cascade)]
    pub user_id: Id<User>,
    #[belongs_to(group, Group, on_delete = cascade)]
    pub group_id: Id<Group>,
    #[default("member")]
    pub role: String,
}

fn relation(name: &'static str, target: &'static str, type_id: TypeId) -> RelationDef {
    RelationDef {
        name,
        target,
        target_type: type_id,
        through: None,
    }
}

fn index_names<T: Table>() -> Vec<(&'static str, Vec<usize>)> {
    T::schema()
        .indexes
        .into_iter()
        .map(|i| (i.name, i.columns))
        .collect()
}

fn main() {
    // Descriptor types.
    let _: Relation<User, Post, ToMany> = User::posts();
    let _: Relation<User, Post, ToMany> = User::reviews();
    let _: Relation<User, Profile, ToOne> = User::profile();
    let _: Relation<User, User, ToMany> = User::reports();
    let _: Relation<User, User, ToOne> = User::manager();
    let _: Relation<User, Group, ToMany> = User::groups();
    let _: Relation<Group, User, ToMany> = Group::members();
    let _: Relation<Group, Membership, ToMany> = Group::memberships();
    let _: Relation<Post, User, ToOne> = Post::author();
    let _: Relation<Post, User, ToOne> = Post::reviewer();
    let _: Relation<Post, Comment, ToMany> = Post::comments();
    let _: Relation<Comment, Post, ToOne> = Comment::post();
    let _: Relation<Profile, User, ToOne> = Profile::user();
    let _: Relation<Membership, Group, ToOne> = Membership::group();
    assert_eq!(User::posts().name(), "posts");
    assert_eq!(Post::author().name(), "author");
    // The indexes created for foreign keys have descriptors like any other.
    let _: Index<Post, (Option<Id<User>>,)> = Post::by_reviewer_id();
    let _: Index<User, (Option<Id<User>>,)> = User::by_manager_id();
    let _: Index<Membership, (Id<Group>,)> = Membership::by_group_id();
    let _: UniqueIndex<Profile, (Id<User>,)> = Profile::by_user_id();

    // Indexes: a declared index starting with the foreign key serves it (`by_author_created`,
    // `by_user_id`, `by_pair`); otherwise `by_<field>` is created, with the field-level ones.
    assert_eq!(
        index_names::<User>(),
        [("by_email", vec![0]), ("by_manager_id", vec![3])]
    );
    assert_eq!(index_names::<Profile>(), [("by_user_id", vec![0])]);
    assert_eq!(
        index_names::<Post>(),
        [
            ("by_reviewer_id", vec![1]),
            ("by_author_created", vec![0, 4])
        ]
    );
    assert_eq!(
        index_names::<Comment>(),
        [("by_post_id", vec![0]), ("by_author_id", vec![1])]
    );
    assert_eq!(
        index_names::<Membership>(),
        [("by_group_id", vec![1]), ("by_pair", vec![0, 1])]
    );
    assert!(!Post::schema().indexes[0].unique);

    // Foreign keys, in field order.
    let post = Post::schema();
    assert_eq!(
        post.foreign_keys,
        [
            ForeignKeyDef {
                relation: "author",
                column: 0,
                target: "users",
                target_type: TypeId::of::<User>(),
                nullable: false,
                on_delete: OnDelete::Cascade,
                on_soft_delete: OnSoftDelete::Cascade,
            },
            ForeignKeyDef {
                relation: "reviewer",
                column: 1,
                target: "users",
                target_type: TypeId::of::<User>(),
                nullable: true,
                on_delete: OnDelete::SetNull,
                on_soft_delete: OnSoftDelete::Ignore,
            },
        ]
    );
    let comment = Comment::schema();
    assert_eq!(comment.foreign_keys[0].on_delete, OnDelete::Cascade);
    assert_eq!(comment.foreign_keys[1].on_delete, OnDelete::SetDefault);
    let user = User::schema();
    assert_eq!(user.foreign_keys.len(), 1);
    assert_eq!(user.foreign_keys[0].relation, "manager");
    assert_eq!(user.foreign_keys[0].target, "users");
    assert_eq!(user.foreign_keys[0].on_delete, OnDelete::SetNull);
    assert!(Group::schema().foreign_keys.is_empty());
    assert_eq!(
        Membership::schema()
            .foreign_keys
            .iter()
            .map(|fk| (fk.relation, fk.column, fk.target))
            .collect::<Vec<_>>(),
        [("user", 0, "users"), ("group", 1, "groups")]
    );

    // Relations: `belongs_to` ones in field order, then the struct's in attribute order.
    let user_type = TypeId::of::<User>();
    let post_type = TypeId::of::<Post>();
    assert_eq!(
        user.relations,
        [
            relation("manager", "users", user_type),
            relation("posts", "posts", post_type),
            relation("reviews", "posts", post_type),
            relation("profile", "profiles", TypeId::of::<Profile>()),
            relation("reports", "users", user_type),
            RelationDef {
                through: Some(("memberships", TypeId::of::<Membership>())),
                ..relation("groups", "groups", TypeId::of::<Group>())
            },
        ]
    );
    assert_eq!(
        post.relations,
        [
            relation("author", "users", user_type),
            relation("reviewer", "users", user_type),
            relation("comments", "comments", TypeId::of::<Comment>()),
        ]
    );

    // Delete modes.
    assert_eq!(user.delete, DeleteMode::Soft);
    assert_eq!(
        post.delete,
        DeleteMode::Scheduled {
            delay_ms: 30 * 24 * 60 * 60 * 1000
        }
    );
    assert_eq!(comment.delete, DeleteMode::Scheduled { delay_ms: 500 });
    assert_eq!(Group::schema().delete, DeleteMode::Hard);

    // Row accessors used by foreign-key checks and `on_delete` actions.
    let ann: Id<User> = Id::from_raw(7);
    let mut p = Post {
        author_id: ann,
        reviewer_id: Some(Id::from_raw(9)),
        title: "Hello".into(),
        published: true,
        created: 1,
    };
    assert_eq!(p.column_id(0), Some(7));
    assert_eq!(p.column_id(1), Some(9));
    assert_eq!(p.column_id(2), None);
    assert_eq!(p.column_id(5), None);
    assert!(p.set_column_null(1));
    assert_eq!(p.reviewer_id, None);
    assert_eq!(p.column_id(1), None);
    assert!(!p.set_column_null(0), "a required id cannot be nulled");
    assert!(!p.set_column_null(2));
    assert!(!p.set_column_null(99));
    assert_eq!(p.author_id, ann);
    assert!(!p.set_column_default(0), "no #[default] on posts.author_id");

    let mut c = Comment {
        post_id: Id::from_raw(3),
        author_id: Id::from_raw(8),
        body: "hi".into(),
    };
    assert!(c.set_column_default(1));
    assert_eq!(c.author_id, Id::from_raw(1));
    assert!(!c.set_column_default(0));
    assert!(!c.set_column_default(2));
    assert!(!c.set_column_default(3));

    let mut u = User {
        email: "a@example.com".into(),
        name: "Ann".into(),
        role: "admin".into(),
        manager_id: None,
    };
    assert!(u.set_column_default(2));
    assert_eq!(u.role, "member");
    assert!(
        !u.set_column_default(3),
        "an Option without #[default] has none"
    );
    assert!(u.set_column_null(3));
    assert_eq!(u.column_id(3), None);
}
