//! Property tests of the index-key encoding: order preservation and unambiguous composites.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cmp::Ordering;

use proptest::prelude::*;
use redorm::{Column, Id, Json, Table};

/// A table for `Id<Thing>` keys.
#[derive(Table, Debug)]
struct Thing {
    x: u8,
}

fn key<C: Column>(v: &C) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode_key(&mut out).expect("encodable");
    out
}

fn roundtrip<C: Column + PartialEq>(v: &C) {
    let mut out = Vec::new();
    v.encode_value(&mut out).expect("encodable");
    let mut input = out.as_slice();
    let back = C::decode_value(&mut input).expect("decodes");
    assert!(input.is_empty(), "decode left {} bytes", input.len());
    assert_eq!(&back, v);
}

fn assert_order<C: Column>(a: &C, b: &C, expected: Ordering) {
    assert_eq!(
        key(a).cmp(&key(b)),
        expected,
        "key order of {a:?} vs {b:?} should be {expected:?}"
    );
}

/// Strings drawn with plenty of zero bytes and 0xFF-like chars, the escape's edge cases.
fn tricky_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('\0'),
            Just('\u{1}'),
            Just('a'),
            Just('b'),
            Just('\u{ff}'),
            any::<char>()
        ],
        0..8,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn tricky_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8), any::<u8>()],
        0..8,
    )
}

macro_rules! int_props {
    ($($name:ident: $t:ty),*) => {$(
        proptest! {
            #[test]
            fn $name(a: $t, b: $t) {
                assert_order(&a, &b, a.cmp(&b));
                roundtrip(&a);
            }
        }
    )*};
}

int_props!(
    order_u8: u8, order_u16: u16, order_u32: u32, order_u64: u64, order_u128: u128,
    order_i8: i8, order_i16: i16, order_i32: i32, order_i64: i64, order_i128: i128,
    order_usize: usize, order_isize: isize, order_bool: bool
);

proptest! {
    #[test]
    fn f64_keys_follow_total_order(a: f64, b: f64) {
        assert_order(&a, &b, a.total_cmp(&b));
        let mut out = Vec::new();
        a.encode_value(&mut out).unwrap();
        let back = f64::decode_value(&mut out.as_slice()).unwrap();
        prop_assert_eq!(back.to_bits(), a.to_bits());
    }

    #[test]
    fn f32_keys_follow_total_order(a: f32, b: f32) {
        assert_order(&a, &b, a.total_cmp(&b));
    }

    #[test]
    fn string_keys_follow_byte_order(a in tricky_string(), b in tricky_string()) {
        assert_order(&a, &b, a.as_bytes().cmp(b.as_bytes()));
        roundtrip(&a);
    }

    #[test]
    fn bytes_keys_follow_lexicographic_order(a in tricky_bytes(), b in tricky_bytes()) {
        assert_order(&a, &b, a.cmp(&b));
        roundtrip(&a);
    }

    #[test]
    fn option_keys_put_none_first(a in proptest::option::of(any::<i32>()), b in proptest::option::of(any::<i32>())) {
        assert_order(&a, &b, a.cmp(&b));
        roundtrip(&a);
    }

    #[test]
    fn vec_keys_are_lexicographic(a in proptest::collection::vec(any::<i16>(), 0..5), b in proptest::collection::vec(any::<i16>(), 0..5)) {
        assert_order(&a, &b, a.cmp(&b));
        roundtrip(&a);
    }

    #[test]
    fn vec_of_strings_keys_are_lexicographic(
        a in proptest::collection::vec(tricky_string(), 0..4),
        b in proptest::collection::vec(tricky_string(), 0..4),
    ) {
        let ord = a.iter().map(|s| s.as_bytes()).cmp(b.iter().map(|s| s.as_bytes()));
        assert_order(&a, &b, ord);
    }

    #[test]
    fn id_keys_follow_numeric_order(a: u64, b: u64) {
        let (x, y) = (Id::<Thing>::from_raw(a), Id::<Thing>::from_raw(b));
        assert_order(&x, &y, a.cmp(&b));
    }

    /// A compound key (s1, s2) compares like the tuple, so ("ab", "c") and ("a", "bc") can
    /// never share a key.
    #[test]
    fn compound_string_keys_are_unambiguous(
        a1 in tricky_string(), a2 in tricky_string(),
        b1 in tricky_string(), b2 in tricky_string(),
    ) {
        let mut ka = key(&a1); ka.extend(key(&a2));
        let mut kb = key(&b1); kb.extend(key(&b2));
        let expected = (a1.as_bytes(), a2.as_bytes()).cmp(&(b1.as_bytes(), b2.as_bytes()));
        prop_assert_eq!(ka.cmp(&kb), expected);
    }

    #[test]
    fn compound_mixed_keys_follow_tuple_order(
        a1 in proptest::option::of(tricky_string()), a2: i64,
        b1 in proptest::option::of(tricky_string()), b2: i64,
    ) {
        let mut ka = key(&a1); ka.extend(key(&a2));
        let mut kb = key(&b1); kb.extend(key(&b2));
        let expected = (a1.as_ref().map(|s| s.as_bytes()), a2).cmp(&(b1.as_ref().map(|s| s.as_bytes()), b2));
        prop_assert_eq!(ka.cmp(&kb), expected);
    }

    /// Decoding arbitrary bytes never panics: it returns a value or an error.
    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = String::decode_value(&mut bytes.as_slice());
        let _ = <Vec<Option<String>>>::decode_value(&mut bytes.as_slice());
        let _ = <Option<i64>>::decode_value(&mut bytes.as_slice());
        let _ = bool::decode_value(&mut bytes.as_slice());
        let _ = f64::decode_value(&mut bytes.as_slice());
        let _ = u16::decode_value(&mut bytes.as_slice());
        let _ = <Json<Vec<u32>>>::decode_value(&mut bytes.as_slice());
    }
}

#[test]
fn fixed_edge_cases() {
    // Empty string sorts before everything, and before a string holding a zero byte.
    assert_order(&String::new(), &"\0".to_string(), Ordering::Less);
    assert_order(&"a".to_string(), &"a\0".to_string(), Ordering::Less);
    assert_order(&"a\0".to_string(), &"a\u{1}".to_string(), Ordering::Less);
    // Negative floats, zero signs, infinities and NaN.
    assert_order(&-1.5f64, &-0.5f64, Ordering::Less);
    assert_order(&-0.0f64, &0.0f64, Ordering::Less);
    assert_order(&f64::NEG_INFINITY, &f64::MIN, Ordering::Less);
    assert_order(&f64::INFINITY, &f64::NAN, Ordering::Less);
    assert_order(&-f64::NAN, &f64::NEG_INFINITY, Ordering::Less);
    // None first.
    assert_order(&None::<i64>, &Some(i64::MIN), Ordering::Less);
    // ("ab","c") vs ("a","bc").
    let mut k1 = key(&"ab".to_string());
    k1.extend(key(&"c".to_string()));
    let mut k2 = key(&"a".to_string());
    k2.extend(key(&"bc".to_string()));
    assert_ne!(k1, k2);
}

#[test]
fn json_roundtrips_and_reports_bad_data() {
    let v = Json(vec![1u32, 2, 3]);
    roundtrip(&v);
    let mut out = Vec::new();
    Json("not a list".to_string())
        .encode_value(&mut out)
        .unwrap();
    let err = <Json<Vec<u32>>>::decode_value(&mut out.as_slice()).unwrap_err();
    assert!(
        err.detail.contains("stored JSON does not match the type"),
        "{err}"
    );
}

#[test]
fn type_names_are_stable() {
    assert_eq!(<u32>::type_name(), "u32");
    assert_eq!(<usize>::type_name(), "u64");
    assert_eq!(<Option<Vec<String>>>::type_name(), "Option<Vec<String>>");
    assert_eq!(<Vec<u8>>::type_name(), "Vec<u8>");
    assert_eq!(<Id<Thing>>::type_name(), "Id");
    assert_eq!(<Json<Vec<u8>>>::type_name(), "Json");
}
