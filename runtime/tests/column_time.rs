//! `time::OffsetDateTime` and `time::Date` as column types (feature `time`): row and key
//! encodings (property tests), typed errors for stored values time cannot hold, then indexed
//! and unique columns through ranges, order, pages and a violation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use proptest::prelude::*;
use redorm::prelude::*;
use redorm::{Cursor, Error};
use rstest_reuse::apply;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

fn key<C: Column>(v: &C) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode_key(&mut out).expect("encodable");
    out
}

fn row<C: Column>(v: &C) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode_value(&mut out).expect("encodable");
    out
}

fn roundtrip<C: Column + PartialEq>(v: &C) -> C {
    let bytes = row(v);
    let mut input = bytes.as_slice();
    let back = C::decode_value(&mut input).expect("decodes");
    assert!(input.is_empty(), "decode left {} bytes", input.len());
    assert_eq!(&back, v);
    back
}

/// Any instant `OffsetDateTime` holds, seen at any offset it can be shown in.
fn datetime() -> impl Strategy<Value = OffsetDateTime> {
    let lo = PrimitiveDateTime::MIN.assume_utc().unix_timestamp();
    let hi = PrimitiveDateTime::MAX.assume_utc().unix_timestamp();
    let secs = prop_oneof![lo..=hi, -100_000i64..100_000, Just(lo), Just(hi), Just(0)];
    let nanos = prop_oneof![0u32..1_000_000_000, Just(0), Just(999_999_999)];
    (secs, nanos, -86_399i32..=86_399).prop_filter_map("offset out of range", |(s, n, off)| {
        let utc = OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(s) * 1_000_000_000 + i128::from(n),
        )
        .ok()?;
        utc.checked_to_offset(UtcOffset::from_whole_seconds(off).ok()?)
    })
}

fn date() -> impl Strategy<Value = Date> {
    let lo = Date::MIN.to_julian_day();
    let hi = Date::MAX.to_julian_day();
    prop_oneof![lo..=hi, 2_440_000i32..2_440_700, Just(lo), Just(hi)]
        .prop_map(|d| Date::from_julian_day(d).unwrap())
}

proptest! {
    /// Keys sort as the instants do, whatever offsets the values carry.
    #[test]
    fn datetime_keys_follow_instant_order(a in datetime(), b in datetime()) {
        prop_assert_eq!(key(&a).cmp(&key(&b)), a.cmp(&b));
        let back = roundtrip(&a);
        // Stored as UTC: the same instant, read back at offset zero.
        prop_assert_eq!(back.offset(), UtcOffset::UTC);
        prop_assert_eq!(back.unix_timestamp_nanos(), a.unix_timestamp_nanos());
    }

    #[test]
    fn date_keys_follow_date_order(a in date(), b in date()) {
        prop_assert_eq!(key(&a).cmp(&key(&b)), a.cmp(&b));
        roundtrip(&a);
    }

    #[test]
    fn optional_keys_put_none_first(a in proptest::option::of(datetime()), b in proptest::option::of(datetime())) {
        prop_assert_eq!(key(&a).cmp(&key(&b)), a.cmp(&b));
        roundtrip(&a);
    }

    /// Compound (date, datetime) keys compare as the tuple: both encodings are fixed-size.
    #[test]
    fn compound_keys_follow_tuple_order(a in date(), x in datetime(), b in date(), y in datetime()) {
        let mut ka = key(&a); ka.extend(key(&x));
        let mut kb = key(&b); kb.extend(key(&y));
        prop_assert_eq!(ka.cmp(&kb), (a, x).cmp(&(b, y)));
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
        let _ = OffsetDateTime::decode_value(&mut bytes.as_slice());
        let _ = Date::decode_value(&mut bytes.as_slice());
        let _ = <Option<OffsetDateTime>>::decode_value(&mut bytes.as_slice());
        let _ = <Vec<Date>>::decode_value(&mut bytes.as_slice());
    }
}

fn at(y: i32, m: Month, d: u8, h: u8) -> OffsetDateTime {
    PrimitiveDateTime::new(
        Date::from_calendar_date(y, m, d).unwrap(),
        Time::from_hms(h, 0, 0).unwrap(),
    )
    .assume_utc()
}

/// The row form of a timestamp: zig-zag varint seconds, then varint nanoseconds.
fn timestamp_row(secs: i64, nanos: u64) -> Vec<u8> {
    let mut out = Vec::new();
    redorm::codec::put_varint(&mut out, redorm::codec::zigzag(secs));
    redorm::codec::put_varint(&mut out, nanos);
    out
}

#[test]
fn stored_forms_are_fixed() {
    assert_eq!(OffsetDateTime::type_name(), "Timestamp");
    assert_eq!(Date::type_name(), "Date");
    let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_000_000_123).unwrap();
    assert_eq!(row(&t), timestamp_row(1_700_000_000, 123));
    let mut k = ((1_700_000_000i64 as u64) ^ (1 << 63))
        .to_be_bytes()
        .to_vec();
    k.extend(123u32.to_be_bytes());
    assert_eq!(key(&t), k);
    // An offset changes neither form.
    let shown = t.to_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
    assert_eq!((row(&shown), key(&shown)), (row(&t), key(&t)));
    // 1970-01-01 is Julian day 2440588.
    let epoch = Date::from_calendar_date(1970, Month::January, 1).unwrap();
    assert_eq!(key(&epoch), (2_440_588u32 ^ (1 << 31)).to_be_bytes());
    assert_eq!(
        key(&(epoch.previous_day().unwrap())),
        (2_440_587u32 ^ (1 << 31)).to_be_bytes()
    );
}

#[test]
fn stored_values_time_cannot_hold_are_typed_errors() {
    let err = OffsetDateTime::decode_value(&mut timestamp_row(i64::MAX, 0).as_slice()).unwrap_err();
    assert!(
        err.detail.starts_with(&format!(
            "timestamp at {} s is out of time::OffsetDateTime's range",
            i64::MAX
        )),
        "{err}"
    );
    let err =
        OffsetDateTime::decode_value(&mut timestamp_row(59, 1_500_000_000).as_slice()).unwrap_err();
    assert_eq!(
        err.detail,
        "timestamp at 59 s is in a leap second, which time::OffsetDateTime cannot hold"
    );
    let err =
        OffsetDateTime::decode_value(&mut timestamp_row(0, 2_000_000_000).as_slice()).unwrap_err();
    assert_eq!(
        err.detail,
        "timestamp at 0 s has 2000000000 nanoseconds, more than a (leap) second holds"
    );
    let err = OffsetDateTime::decode_value(&mut timestamp_row(0, 0)[..1].as_ref()).unwrap_err();
    assert_eq!(err.detail, "unexpected end of data while reading a varint");
    let mut far = Vec::new();
    redorm::codec::put_varint(&mut far, redorm::codec::zigzag(100_000_000));
    let err = Date::decode_value(&mut far.as_slice()).unwrap_err();
    assert!(
        err.detail
            .starts_with("Julian day 100000000 is out of time::Date's range"),
        "{err}"
    );
    let mut huge = Vec::new();
    redorm::codec::put_varint(&mut huge, redorm::codec::zigzag(i64::from(i32::MAX) + 1));
    let err = Date::decode_value(&mut huge.as_slice()).unwrap_err();
    assert_eq!(err.detail, "Julian day 2147483648 does not fit in a date");
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "events", index(by_day_at = [day, at]))]
struct Event {
    #[unique]
    at: OffsetDateTime,
    day: Date,
    ends: Option<OffsetDateTime>,
    name: String,
}

/// Six events, hours 9..=14 on 2024-03-01, inserted out of order; the odd hours end an hour
/// later, the even ones have no end.
fn fill(db: &Db) {
    db.write(|tx| {
        for h in [12u8, 9, 14, 11, 13, 10] {
            tx.insert(Event {
                // Written at an offset: stored, compared and read back as UTC.
                at: at(2024, Month::March, 1, h).to_offset(UtcOffset::from_hms(-5, 0, 0).unwrap()),
                day: Date::from_calendar_date(2024, Month::March, 1).unwrap(),
                ends: (h % 2 == 1).then(|| at(2024, Month::March, 1, h + 1)),
                name: format!("e{h}"),
            })?;
        }
        tx.insert(Event {
            at: at(2023, Month::December, 31, 23),
            day: Date::from_calendar_date(2023, Month::December, 31).unwrap(),
            ends: None,
            name: "eve".into(),
        })?;
        Ok(())
    })
    .unwrap();
}

fn names(docs: &[Doc<Event>]) -> Vec<&str> {
    docs.iter().map(|d| d.name.as_str()).collect()
}

#[apply(engines)]
fn index_ranges_on_date_time_columns(engine: Engine) {
    let db = Db::builder().table::<Event>().open_on(engine);
    fill(&db);
    let tx = db.read().unwrap();
    let q = tx
        .query::<Event>()
        .filter(Event::at().between(at(2024, Month::March, 1, 10), at(2024, Month::March, 1, 12)));
    assert!(
        q.explain()
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("access: index by_at (1 probe), range at BETWEEN"),
        "{}",
        q.explain()
    );
    assert_eq!(names(&q.all().unwrap()), ["e10", "e11", "e12"]);
    // The same instant at another offset bounds the range the same.
    let west = at(2024, Month::March, 1, 13).to_offset(UtcOffset::from_hms(-8, 0, 0).unwrap());
    let later = tx.query::<Event>().filter(Event::at().gte(west));
    assert_eq!(names(&later.all().unwrap()), ["e13", "e14"]);
    // A date pinned, then a range on the instant: both columns of the compound index.
    let day = Date::from_calendar_date(2024, Month::March, 1).unwrap();
    let morning = tx
        .query::<Event>()
        .filter(
            Event::day()
                .eq(day)
                .and(Event::at().lt(at(2024, Month::March, 1, 11))),
        );
    assert_eq!(
        morning.explain().lines().nth(1).unwrap().split(" (").next(),
        Some("access: index by_day_at")
    );
    assert_eq!(names(&morning.all().unwrap()), ["e9", "e10"]);
    let before = tx.query::<Event>().filter(Event::day().lt(day));
    assert_eq!(names(&before.all().unwrap()), ["eve"]);
    // An optional instant, per row: `None` never matches a range.
    let ends_late = tx
        .query::<Event>()
        .filter(Event::ends().gt(at(2024, Month::March, 1, 11)))
        .allow_full_scan();
    assert_eq!(names(&ends_late.all().unwrap()), ["e11", "e13"]);
    let got = tx
        .get_by(Event::by_at(), at(2024, Month::March, 1, 9))
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.at.offset(), got.ends),
        (UtcOffset::UTC, Some(at(2024, Month::March, 1, 10)))
    );
}

#[apply(engines)]
fn order_by_date_times_descending(engine: Engine) {
    let db = Db::builder().table::<Event>().open_on(engine);
    fill(&db);
    let tx = db.read().unwrap();
    let q = tx.query::<Event>().order_by(Event::at().desc());
    assert_eq!(
        q.explain().lines().nth(2),
        Some("order: served by the index (descending)")
    );
    assert_eq!(
        names(&q.all().unwrap()),
        ["e14", "e13", "e12", "e11", "e10", "e9", "eve"]
    );
    let by_day = tx
        .query::<Event>()
        .order_by(Event::day().desc())
        .order_by(Event::at().desc())
        .limit(3);
    assert_eq!(
        by_day.explain().lines().nth(2),
        Some("order: served by the index (descending)")
    );
    assert_eq!(names(&by_day.all().unwrap()), ["e14", "e13", "e12"]);
}

#[apply(engines)]
fn pages_by_date_time_through_string_cursors(engine: Engine) {
    let db = Db::builder().table::<Event>().open_on(engine);
    fill(&db);
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let tx = db.read().unwrap();
        let q = tx.query::<Event>().order_by(Event::at().desc());
        let parsed: Option<Cursor> = cursor.as_deref().map(|c| c.parse().unwrap());
        let page = q.paginate(parsed.as_ref(), 3).unwrap();
        pages.push(names(&page.items).join(","));
        match page.next_cursor {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, ["e14,e13,e12", "e11,e10,e9", "eve"]);
}

#[apply(engines)]
fn a_taken_instant_is_a_unique_violation(engine: Engine) {
    let db = Db::builder().table::<Event>().open_on(engine);
    fill(&db);
    let noon = at(2024, Month::March, 1, 12);
    let holder = db
        .read()
        .unwrap()
        .get_by(Event::by_at(), noon)
        .unwrap()
        .unwrap()
        .id;
    // The same instant written at another offset is the same key.
    let err = db
        .write(|tx| {
            tx.insert(Event {
                at: noon.to_offset(UtcOffset::from_hms(2, 0, 0).unwrap()),
                day: noon.date(),
                ends: None,
                name: "again".into(),
            })
        })
        .unwrap_err();
    match &err {
        Error::Unique {
            table,
            index,
            value,
            existing,
        } => assert_eq!(
            (*table, *index, value.as_str(), *existing),
            (
                "events",
                "by_at",
                "2024-03-01 14:00:00.0 +02:00:00",
                holder.get()
            )
        ),
        other => panic!("expected a unique violation, got {other:?}"),
    }
    assert_eq!(db.read().unwrap().query::<Event>().count().unwrap(), 7);
}
