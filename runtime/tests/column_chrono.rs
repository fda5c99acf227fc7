//! `chrono::DateTime<Utc>` and `chrono::NaiveDate` as column types (feature `chrono`): row and
//! key encodings (property tests, leap seconds included), typed errors, then indexed and
//! unique columns through ranges, order, pages and a violation; with feature `time` too, a
//! file written with chrono's types reads with time's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use common::{Engine, OpenOn, engines};
use proptest::prelude::*;
use redorm::prelude::*;
use redorm::{Cursor, Error};
use rstest_reuse::apply;

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

fn roundtrip<C: Column + PartialEq>(v: &C) {
    let bytes = row(v);
    let mut input = bytes.as_slice();
    let back = C::decode_value(&mut input).expect("decodes");
    assert!(input.is_empty(), "decode left {} bytes", input.len());
    assert_eq!(&back, v);
}

/// Any instant chrono holds, leap seconds (the 60th second of a minute) included.
fn datetime() -> impl Strategy<Value = DateTime<Utc>> {
    let lo = DateTime::<Utc>::MIN_UTC.timestamp();
    let hi = DateTime::<Utc>::MAX_UTC.timestamp();
    let secs = prop_oneof![lo..=hi, -100_000i64..100_000, Just(lo), Just(hi), Just(59)];
    let nanos = prop_oneof![
        0u32..1_000_000_000,
        1_000_000_000u32..2_000_000_000,
        Just(0),
        Just(999_999_999),
        Just(1_999_999_999),
    ];
    (secs, nanos).prop_map(|(s, n)| {
        // A leap second only at the end of a minute: move such a draw there.
        let s = if n >= 1_000_000_000 {
            s - s.rem_euclid(60) + 59
        } else {
            s
        };
        DateTime::from_timestamp(s, n)
            .or_else(|| DateTime::from_timestamp(s, n % 1_000_000_000))
            .or_else(|| DateTime::from_timestamp(s - 60, n))
            .expect("an instant chrono holds")
    })
}

fn date() -> impl Strategy<Value = NaiveDate> {
    let lo = NaiveDate::MIN.num_days_from_ce();
    let hi = NaiveDate::MAX.num_days_from_ce();
    prop_oneof![lo..=hi, 719_000i32..720_000, Just(lo), Just(hi)]
        .prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).unwrap())
}

proptest! {
    #[test]
    fn datetime_keys_follow_datetime_order(a in datetime(), b in datetime()) {
        prop_assert_eq!(key(&a).cmp(&key(&b)), a.cmp(&b));
        roundtrip(&a);
    }

    #[test]
    fn date_keys_follow_date_order(a in date(), b in date()) {
        prop_assert_eq!(key(&a).cmp(&key(&b)), a.cmp(&b));
        roundtrip(&a);
    }

    #[test]
    fn optional_keys_put_none_first(a in proptest::option::of(date()), b in proptest::option::of(date())) {
        prop_assert_eq!(key(&a).cmp(&key(&b)), a.cmp(&b));
        roundtrip(&a);
    }

    #[test]
    fn compound_keys_follow_tuple_order(a in date(), x in datetime(), b in date(), y in datetime()) {
        let mut ka = key(&a); ka.extend(key(&x));
        let mut kb = key(&b); kb.extend(key(&y));
        prop_assert_eq!(ka.cmp(&kb), (a, x).cmp(&(b, y)));
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
        let _ = <DateTime<Utc>>::decode_value(&mut bytes.as_slice());
        let _ = NaiveDate::decode_value(&mut bytes.as_slice());
        let _ = <Option<DateTime<Utc>>>::decode_value(&mut bytes.as_slice());
        let _ = <Vec<NaiveDate>>::decode_value(&mut bytes.as_slice());
    }
}

/// The row form of a timestamp: zig-zag varint seconds, then varint nanoseconds.
fn timestamp_row(secs: i64, nanos: u64) -> Vec<u8> {
    let mut out = Vec::new();
    redorm::codec::put_varint(&mut out, redorm::codec::zigzag(secs));
    redorm::codec::put_varint(&mut out, nanos);
    out
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn stored_forms_are_fixed() {
    assert_eq!(<DateTime<Utc>>::type_name(), "Timestamp");
    assert_eq!(NaiveDate::type_name(), "Date");
    let t = DateTime::from_timestamp(1_700_000_000, 123).unwrap();
    assert_eq!(row(&t), timestamp_row(1_700_000_000, 123));
    let mut k = ((1_700_000_000i64 as u64) ^ (1 << 63))
        .to_be_bytes()
        .to_vec();
    k.extend(123u32.to_be_bytes());
    assert_eq!(key(&t), k);
    // Days as time::Date stores them: the Julian day, 2440588 for 1970-01-01.
    assert_eq!(
        key(&ymd(1970, 1, 1)),
        (2_440_588u32 ^ (1 << 31)).to_be_bytes()
    );
    assert_eq!(key(&ymd(1, 1, 1)), (1_721_426u32 ^ (1 << 31)).to_be_bytes());
    // A leap second sorts after the second it extends and before the next one.
    let leap = DateTime::from_timestamp(59, 1_500_000_000).unwrap();
    let before = DateTime::from_timestamp(59, 999_999_999).unwrap();
    let after = DateTime::from_timestamp(60, 0).unwrap();
    assert!(key(&before) < key(&leap) && key(&leap) < key(&after));
}

#[test]
fn stored_values_chrono_cannot_hold_are_typed_errors() {
    let err =
        <DateTime<Utc>>::decode_value(&mut timestamp_row(i64::MAX, 0).as_slice()).unwrap_err();
    assert_eq!(
        err.detail,
        format!(
            "timestamp at {} s and 0 ns is not a chrono::DateTime<Utc> (out of range, or a leap \
             second not at the end of a minute)",
            i64::MAX
        )
    );
    // A leap second in the middle of a minute.
    let err = <DateTime<Utc>>::decode_value(&mut timestamp_row(30, 1_000_000_000).as_slice())
        .unwrap_err();
    assert!(
        err.detail
            .starts_with("timestamp at 30 s and 1000000000 ns is not"),
        "{err}"
    );
    let err =
        <DateTime<Utc>>::decode_value(&mut timestamp_row(0, 2_000_000_000).as_slice()).unwrap_err();
    assert_eq!(
        err.detail,
        "timestamp at 0 s has 2000000000 nanoseconds, more than a (leap) second holds"
    );
    let mut far = Vec::new();
    redorm::codec::put_varint(&mut far, redorm::codec::zigzag(i64::from(i32::MIN)));
    let err = NaiveDate::decode_value(&mut far.as_slice()).unwrap_err();
    assert_eq!(
        err.detail,
        "Julian day -2147483648 is out of chrono::NaiveDate's range"
    );
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "bookings", index(by_day_start = [day, start]))]
struct Booking {
    #[unique]
    start: DateTime<Utc>,
    day: NaiveDate,
    paid: Option<NaiveDate>,
    who: String,
}

/// Bookings at hours 9..=14 on 2024-03-01 (out of order) and one on 2023-12-31; the odd hours
/// were paid on 2024-02-(hour), the even ones not yet.
fn fill(db: &Db) {
    db.write(|tx| {
        for h in [12u32, 9, 14, 11, 13, 10] {
            tx.insert(Booking {
                start: at(2024, 3, 1, h),
                day: ymd(2024, 3, 1),
                paid: (h % 2 == 1).then(|| ymd(2024, 2, h)),
                who: format!("b{h}"),
            })?;
        }
        tx.insert(Booking {
            start: at(2023, 12, 31, 23),
            day: ymd(2023, 12, 31),
            paid: Some(ymd(2023, 12, 1)),
            who: "eve".into(),
        })?;
        Ok(())
    })
    .unwrap();
}

fn whos(docs: &[Doc<Booking>]) -> Vec<&str> {
    docs.iter().map(|d| d.who.as_str()).collect()
}

#[apply(engines)]
fn index_ranges_on_chrono_columns(engine: Engine) {
    let db = Db::builder().table::<Booking>().open_on(engine);
    fill(&db);
    let tx = db.read().unwrap();
    let q = tx
        .query::<Booking>()
        .filter(Booking::start().between(at(2024, 3, 1, 10), at(2024, 3, 1, 12)));
    assert_eq!(
        q.explain().lines().nth(1),
        Some(
            "access: index by_start (1 probe), range start BETWEEN 2024-03-01T10:00:00Z AND \
             2024-03-01T12:00:00Z"
        )
    );
    assert_eq!(whos(&q.all().unwrap()), ["b10", "b11", "b12"]);
    let morning = tx.query::<Booking>().filter(
        Booking::day()
            .eq(ymd(2024, 3, 1))
            .and(Booking::start().lt(at(2024, 3, 1, 11))),
    );
    assert_eq!(
        morning.explain().lines().nth(1),
        Some(
            "access: index by_day_start (1 probe: day = 2024-03-01), range start < \
             2024-03-01T11:00:00Z"
        )
    );
    assert_eq!(whos(&morning.all().unwrap()), ["b9", "b10"]);
    let before = tx
        .query::<Booking>()
        .filter(Booking::day().lt(ymd(2024, 1, 1)));
    assert_eq!(whos(&before.all().unwrap()), ["eve"]);
    let paid_late = tx
        .query::<Booking>()
        .filter(Booking::paid().gte(ymd(2024, 2, 11)))
        .allow_full_scan();
    assert_eq!(whos(&paid_late.all().unwrap()), ["b11", "b13"]);
}

#[apply(engines)]
fn order_by_chrono_columns_descending(engine: Engine) {
    let db = Db::builder().table::<Booking>().open_on(engine);
    fill(&db);
    let tx = db.read().unwrap();
    let q = tx.query::<Booking>().order_by(Booking::start().desc());
    assert_eq!(
        q.explain().lines().nth(2),
        Some("order: served by the index (descending)")
    );
    assert_eq!(
        whos(&q.all().unwrap()),
        ["b14", "b13", "b12", "b11", "b10", "b9", "eve"]
    );
    // Sorted in memory by an optional date: `None` sorts first, so last when descending, and
    // the rows it ties go by id in the same direction (b10 is row 6, b14 row 3, b12 row 1).
    let by_paid = tx
        .query::<Booking>()
        .order_by(Booking::paid().desc())
        .allow_full_scan();
    assert_eq!(
        whos(&by_paid.all().unwrap()),
        ["b13", "b11", "b9", "eve", "b10", "b14", "b12"]
    );
}

#[apply(engines)]
fn pages_by_chrono_instant_through_string_cursors(engine: Engine) {
    let db = Db::builder().table::<Booking>().open_on(engine);
    fill(&db);
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let tx = db.read().unwrap();
        let q = tx
            .query::<Booking>()
            .filter(Booking::start().gte(at(2024, 1, 1, 0)))
            .order_by(Booking::start().asc());
        let parsed: Option<Cursor> = cursor.as_deref().map(|c| c.parse().unwrap());
        let page = q.paginate(parsed.as_ref(), 4).unwrap();
        pages.push(whos(&page.items).join(","));
        match page.next_cursor {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, ["b9,b10,b11,b12", "b13,b14"]);
}

#[apply(engines)]
fn a_taken_chrono_instant_is_a_unique_violation(engine: Engine) {
    let db = Db::builder().table::<Booking>().open_on(engine);
    fill(&db);
    let noon = at(2024, 3, 1, 12);
    let holder = db
        .read()
        .unwrap()
        .get_by(Booking::by_start(), noon)
        .unwrap()
        .unwrap()
        .id;
    let err = db
        .write(|tx| {
            tx.insert(Booking {
                start: noon,
                day: ymd(2024, 3, 1),
                paid: None,
                who: "again".into(),
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
            ("bookings", "by_start", "2024-03-01T12:00:00Z", holder.get())
        ),
        other => panic!("expected a unique violation, got {other:?}"),
    }
    assert_eq!(db.read().unwrap().query::<Booking>().count().unwrap(), 7);
}

/// The same table declared with time's types: it opens a file written with chrono's, reads the
/// same values and finds rows through the same index keys.
#[cfg(feature = "time")]
#[apply(engines)]
fn a_file_written_with_chrono_reads_with_time(engine: Engine) {
    use time::{Date, Month, OffsetDateTime};

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "bookings", index(by_day_start = [day, start]))]
    struct TimeBooking {
        #[unique]
        start: OffsetDateTime,
        day: Date,
        paid: Option<Date>,
        who: String,
    }

    let store = common::Store::new(engine);
    fill(&store.open(Db::builder().table::<Booking>()));
    let db = store.open(Db::builder().table::<TimeBooking>());
    let tx = db.read().unwrap();
    let noon = OffsetDateTime::from_unix_timestamp(at(2024, 3, 1, 12).timestamp()).unwrap();
    let row = tx.get_by(TimeBooking::by_start(), noon).unwrap().unwrap();
    assert_eq!(
        (row.day, row.paid, row.who.as_str()),
        (
            Date::from_calendar_date(2024, Month::March, 1).unwrap(),
            None,
            "b12"
        )
    );
    let paid = tx
        .query::<TimeBooking>()
        .filter(TimeBooking::paid().eq(Date::from_calendar_date(2023, Month::December, 1).unwrap()))
        .allow_full_scan()
        .all()
        .unwrap();
    assert_eq!(
        paid.iter().map(|d| d.who.as_str()).collect::<Vec<_>>(),
        ["eve"]
    );
    assert_eq!(
        tx.query::<TimeBooking>()
            .order_by(TimeBooking::start().desc())
            .first()
            .unwrap()
            .unwrap()
            .who,
        "b14"
    );
}
