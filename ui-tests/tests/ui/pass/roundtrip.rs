//! The generated row codec: rows round-trip, stored layouts are honoured (reordered, missing
//! and unknown fields), defaults fill in, and per-column helpers work.
#![deny(warnings)]

use redorm::prelude::*;

#[derive(Column, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Low,
    Mid,
    High,
}

#[derive(Table, Debug, Clone, PartialEq)]
struct Row {
    name: String,
    #[default(0)]
    count: u64,
    note: Option<String>,
    #[default(Level::Mid)]
    level: Level,
    #[default(5)]
    limit: Option<u32>,
    #[default("x")]
    tag: String,
    #[default(vec![1, 2])]
    list: Vec<i64>,
    r#type: u8,
}

#[derive(Table, Debug, PartialEq)]
struct Empty {}

fn encode(row: &Row) -> Vec<u8> {
    let mut out = Vec::new();
    row.encode_row(&mut out).unwrap();
    out
}

fn main() {
    let row = Row {
        name: "a".into(),
        count: 7,
        note: Some("n".into()),
        level: Level::High,
        limit: None,
        tag: "t".into(),
        list: vec![9],
        r#type: 4,
    };

    // Current layout.
    let bytes = encode(&row);
    let mut input = &bytes[..];
    assert_eq!(Row::decode_row(None, &mut input).unwrap(), row);
    assert!(input.is_empty());

    // A layout naming every field in order decodes the same.
    let all: Vec<usize> = (0..8).collect();
    let mut input = &bytes[..];
    assert_eq!(Row::decode_row(Some(&all), &mut input).unwrap(), row);

    // A row stored with only `name` and `type`, in another order: the rest take defaults.
    let mut old = Vec::new();
    redorm::Column::encode_value(&4u8, &mut old).unwrap();
    redorm::Column::encode_value(&String::from("old"), &mut old).unwrap();
    let mut input = &old[..];
    let decoded = Row::decode_row(Some(&[7, 0]), &mut input).unwrap();
    assert_eq!(
        decoded,
        Row {
            name: "old".into(),
            count: 0,
            note: None,
            level: Level::Mid,
            limit: Some(5),
            tag: "x".into(),
            list: vec![1, 2],
            r#type: 4,
        }
    );

    // A missing field without a default is an error naming its column.
    let err = Row::decode_row(Some(&[7]), &mut &old[..]).unwrap_err();
    assert_eq!(err.column, 0);

    // A layout naming a field the struct does not have.
    let err = Row::decode_row(Some(&[8]), &mut &old[..]).unwrap_err();
    assert_eq!(err.column, 8);

    // Column helpers.
    let mut key = Vec::new();
    row.encode_column_key(3, &mut key).unwrap();
    assert_eq!(key, 2u32.to_be_bytes());
    assert!(row.encode_column_key(8, &mut key).is_err());
    assert!(!row.column_is_null(2));
    assert!(row.column_is_null(4));
    assert!(!row.column_is_null(99));
    assert_eq!(row.column_debug(0), "\"a\"");
    assert_eq!(row.column_debug(3), "High");
    assert_eq!(row.column_debug(99), "");
    assert_eq!(Row::r#type().name(), "type");
    assert_eq!(Row::schema().columns[7].name, "type");

    // Enum columns.
    let mut value = Vec::new();
    Level::Mid.encode_value(&mut value).unwrap();
    assert_eq!(Level::decode_value(&mut &value[..]).unwrap(), Level::Mid);
    let mut bad = Vec::new();
    7u64.encode_value(&mut bad).unwrap();
    let err = Level::decode_value(&mut &bad[..]).unwrap_err();
    assert!(err.detail.contains("Level"), "{err:?}");
    let (mut low, mut high) = (Vec::new(), Vec::new());
    Level::Low.encode_key(&mut low).unwrap();
    Level::High.encode_key(&mut high).unwrap();
    assert!(low < high);

    // A table without columns.
    let mut out = Vec::new();
    Empty {}.encode_row(&mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(
        Empty::decode_row(Some(&[]), &mut &out[..]).unwrap(),
        Empty {}
    );
    assert_eq!(
        Empty::decode_row(Some(&[0]), &mut &out[..])
            .unwrap_err()
            .column,
        0
    );
    assert!(Empty::schema().columns.is_empty());
}
