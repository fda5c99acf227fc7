//! Sealed cursors: they show no row value, survive reopening (the key is in the file), and
//! every altered, truncated or spliced cursor is `Error::InvalidCursor` — never a panic, never
//! rows of another query.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use redorm::prelude::*;
use redorm::{Cursor, Error};

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "people")]
struct Person {
    #[unique]
    email: String,
    #[index]
    team: u8,
}

const MARKER: &str = "zebra-marker";

fn emails() -> Vec<String> {
    (0..12)
        .map(|i| format!("{MARKER}-{i:02}@example.com"))
        .collect()
}

fn fill(db: &Db) {
    db.write(|tx| {
        for (i, email) in emails().into_iter().enumerate() {
            tx.insert(Person {
                email,
                team: (i % 2) as u8,
            })?;
        }
        Ok(())
    })
    .unwrap();
}

struct Fixture {
    db: Db,
    /// Real cursors of the query `by_email` (after pages 1, 2 and 3 of 3 rows).
    cursors: Vec<Cursor>,
    /// Real cursors of another query: team 1 by email.
    others: Vec<Cursor>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let db = Db::builder().table::<Person>().in_memory().unwrap();
        fill(&db);
        let walk = |team: Option<u8>| {
            let tx = db.read().unwrap();
            let mut out = Vec::new();
            let mut cursor = None;
            loop {
                let q = tx.query::<Person>().order_by(Person::email().asc());
                let q = match team {
                    Some(t) => q.filter(Person::team().eq(t)),
                    None => q,
                };
                let page = q.paginate(cursor.as_ref(), 3).unwrap();
                match page.next_cursor {
                    Some(c) => {
                        out.push(c.clone());
                        cursor = Some(c);
                    }
                    None => return out,
                }
            }
        };
        let cursors = walk(None);
        let others = walk(Some(1));
        Fixture {
            db,
            cursors,
            others,
        }
    })
}

/// Runs the `by_email` query from `text`.
fn page_from(text: &str) -> redorm::Result<Vec<String>> {
    let f = fixture();
    let tx = f.db.read()?;
    let cursor: Cursor = text.parse().unwrap();
    let page = tx
        .query::<Person>()
        .order_by(Person::email().asc())
        .paginate(Some(&cursor), 3)?;
    Ok(page.items.iter().map(|d| d.email.clone()).collect())
}

fn refused(text: &str) -> bool {
    matches!(
        page_from(text),
        Err(Error::InvalidCursor {
            table: "people",
            ..
        })
    )
}

fn decoded(c: &Cursor) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(c.as_str()).unwrap()
}

fn is_real(text: &str) -> bool {
    let f = fixture();
    f.cursors
        .iter()
        .chain(&f.others)
        .any(|c| c.as_str() == text)
}

#[test]
fn real_cursors_continue_their_query() {
    let f = fixture();
    assert_eq!(f.cursors.len(), 3);
    let all = emails();
    for (i, c) in f.cursors.iter().enumerate() {
        assert_eq!(
            page_from(c.as_str()).unwrap(),
            all[(i + 1) * 3..(i + 2) * 3]
        );
        assert!(
            c.as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "not URL-safe: {c}"
        );
    }
}

#[test]
fn a_cursor_shows_no_row_value() {
    let f = fixture();
    for c in f.cursors.iter().chain(&f.others) {
        let bytes = decoded(c);
        for needle in [MARKER.as_bytes(), b"example"] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{c}");
            assert!(!c.as_str().contains(std::str::from_utf8(needle).unwrap()));
        }
    }
    // Cursors at equal positions differ: each seal has a fresh nonce.
    let tx = f.db.read().unwrap();
    let q = || tx.query::<Person>().order_by(Person::email().asc());
    let a = q().paginate(None, 3).unwrap().next_cursor.unwrap();
    let b = q().paginate(None, 3).unwrap().next_cursor.unwrap();
    assert_ne!(a, b);
    assert_eq!(
        page_from(a.as_str()).unwrap(),
        page_from(b.as_str()).unwrap()
    );
}

#[test]
fn a_cursor_of_another_query_is_refused_naming_it() {
    let f = fixture();
    for c in &f.others {
        match page_from(c.as_str()) {
            Err(Error::InvalidCursor { reason, .. }) => {
                assert!(reason.contains("another query"), "{reason}")
            }
            other => panic!("expected InvalidCursor, got {other:?}"),
        }
    }
}

#[test]
fn cursors_survive_reopening_and_read_only_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.redb");
    let db = Db::builder().table::<Person>().open(&path).unwrap();
    fill(&db);
    let page = |db: &Db, c: Option<&Cursor>| {
        db.read()
            .unwrap()
            .query::<Person>()
            .order_by(Person::email().asc())
            .paginate(c, 4)
    };
    let cursor = page(&db, None).unwrap().next_cursor.unwrap();
    let text = cursor.to_string();
    drop(db);

    let db = Db::builder().table::<Person>().open(&path).unwrap();
    let next = page(&db, Some(&text.parse().unwrap())).unwrap();
    assert_eq!(next.items[0].email, emails()[4]);
    drop(db);
    let ro = Db::builder()
        .table::<Person>()
        .open_read_only(&path)
        .unwrap();
    let next = page(&ro, Some(&text.parse().unwrap())).unwrap();
    assert_eq!(next.items[0].email, emails()[4]);

    // another file with the same rows has another key
    let other = Db::builder().table::<Person>().in_memory().unwrap();
    fill(&other);
    match page(&other, Some(&cursor)) {
        Err(Error::InvalidCursor { reason, .. }) => {
            assert!(reason.contains("another database"), "{reason}")
        }
        r => panic!("expected InvalidCursor, got {:?}", r.map(|p| p.items.len())),
    }
}

fn base64_char() -> impl Strategy<Value = char> {
    prop::sample::select(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .%"
            .chars()
            .collect::<Vec<_>>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any one bit of the sealed bytes flipped.
    #[test]
    fn a_flipped_bit_is_refused(which in 0usize..3, at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = decoded(&fixture().cursors[which]);
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert!(refused(&URL_SAFE_NO_PAD.encode(&bytes)));
    }

    /// Any characters of the text replaced.
    #[test]
    fn replaced_characters_are_refused(
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), base64_char()), 1..4),
    ) {
        let mut chars: Vec<char> = fixture().cursors[which].as_str().chars().collect();
        for (at, c) in edits {
            let i = at.index(chars.len());
            chars[i] = c;
        }
        let text: String = chars.into_iter().collect();
        prop_assume!(!is_real(&text));
        prop_assert!(refused(&text));
    }

    /// Cut short, or extended, as text or as bytes.
    #[test]
    fn truncated_or_extended_cursors_are_refused(
        which in 0usize..3,
        cut in any::<prop::sample::Index>(),
        tail in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let c = &fixture().cursors[which];
        let text = c.as_str();
        prop_assert!(refused(&text[..cut.index(text.len())]));
        let mut bytes = decoded(c);
        bytes.truncate(cut.index(bytes.len()));
        prop_assert!(refused(&URL_SAFE_NO_PAD.encode(&bytes)));
        let mut longer = decoded(c);
        longer.extend_from_slice(&tail);
        prop_assume!(!tail.is_empty());
        prop_assert!(refused(&URL_SAFE_NO_PAD.encode(&longer)));
    }

    /// The front of one real cursor joined to the back of another (of this query or another).
    #[test]
    fn spliced_cursors_are_refused(
        a in 0usize..6,
        b in 0usize..6,
        i in any::<prop::sample::Index>(),
        j in any::<prop::sample::Index>(),
    ) {
        let f = fixture();
        let all: Vec<&Cursor> = f.cursors.iter().chain(&f.others).collect();
        let (x, y) = (decoded(all[a % all.len()]), decoded(all[b % all.len()]));
        let mut spliced = x[..i.index(x.len() + 1)].to_vec();
        spliced.extend_from_slice(&y[j.index(y.len() + 1)..]);
        let text = URL_SAFE_NO_PAD.encode(&spliced);
        prop_assume!(!is_real(&text));
        prop_assert!(refused(&text));
    }

    /// Whatever the text, the answer is rows of this query or `InvalidCursor`, never a panic.
    #[test]
    fn any_text_is_refused_without_panicking(text in ".{0,120}") {
        prop_assume!(!is_real(&text));
        prop_assert!(refused(&text));
    }
}
