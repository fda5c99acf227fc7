//! Aggregates over a query: `exists`, `sum`, `avg`, `min`, `max`, and the same per group with
//! `group_by` on a column that leads an index.

use std::collections::BTreeMap;
use std::fmt;

use super::Query;
use super::filter::{Expr, Pred, column_key};
use super::order::Order;
use super::plan::plan;
use crate::error::{Error, Result};
use crate::model::{Col, Column, Doc, Table};

/// A numeric column type: the integers, `f32`, `f64`, and `Option` of them (whose `None`
/// rows every aggregate skips, as SQL does).
///
/// Integer sums are `i128` (`u128` for `u128` columns) and checked: a sum that does not fit
/// is an [`Error::InvalidQuery`], never a wrapped number. Float sums are `f64`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a numeric column",
    label = "sum, avg, min and max need an integer or float column (or an Option of one)",
    note = "count() and group_by(..).count() work on any column"
)]
pub trait Numeric: Column {
    /// The value of a row that has one (`N` for `Option<N>`).
    type Value: Copy + PartialEq + fmt::Debug + Send + Sync + 'static;
    /// What `sum` returns: `i128`, `u128` or `f64`.
    type Sum: Copy + Default + PartialEq + fmt::Debug + Send + Sync + 'static;
    #[doc(hidden)]
    fn numeric(&self) -> Option<Self::Value>;
    #[doc(hidden)]
    fn add(sum: Self::Sum, value: Self::Value) -> Option<Self::Sum>;
    #[doc(hidden)]
    fn sum_f64(sum: Self::Sum) -> f64;
}

macro_rules! integer_numeric {
    ($sum:ty: $($t:ty),*) => {$(
        impl Numeric for $t {
            type Value = $t;
            type Sum = $sum;
            fn numeric(&self) -> Option<$t> {
                Some(*self)
            }
            fn add(sum: $sum, value: $t) -> Option<$sum> {
                sum.checked_add(<$sum>::try_from(value).ok()?)
            }
            #[allow(clippy::cast_precision_loss)]
            fn sum_f64(sum: $sum) -> f64 {
                sum as f64
            }
        }
    )*};
}
integer_numeric!(i128: u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, i128);
integer_numeric!(u128: u128);

macro_rules! float_numeric {
    ($($t:ty),*) => {$(
        impl Numeric for $t {
            type Value = $t;
            type Sum = f64;
            fn numeric(&self) -> Option<$t> {
                Some(*self)
            }
            fn add(sum: f64, value: $t) -> Option<f64> {
                Some(sum + f64::from(value))
            }
            fn sum_f64(sum: f64) -> f64 {
                sum
            }
        }
    )*};
}
float_numeric!(f32, f64);

impl<N: Numeric> Numeric for Option<N> {
    type Value = N::Value;
    type Sum = N::Sum;
    fn numeric(&self) -> Option<N::Value> {
        self.as_ref().and_then(N::numeric)
    }
    fn add(sum: N::Sum, value: N::Value) -> Option<N::Sum> {
        N::add(sum, value)
    }
    fn sum_f64(sum: N::Sum) -> f64 {
        N::sum_f64(sum)
    }
}

/// The running state of the aggregates of one set of rows.
struct Acc<V, S> {
    rows: usize,
    count: usize,
    sum: Option<S>,
    /// Smallest and largest so far, by key order (as `order_by` orders), with their keys.
    min: Option<(Vec<u8>, V)>,
    max: Option<(Vec<u8>, V)>,
}

impl<V: Copy, S: Copy + Default> Acc<V, S> {
    fn new() -> Self {
        Acc {
            rows: 0,
            count: 0,
            sum: Some(S::default()),
            min: None,
            max: None,
        }
    }
}

/// Column `col` of `doc`.
fn value<T: Table, C: 'static>(col: Col<T, C>, doc: &Doc<T>) -> Result<&C> {
    doc.column_any(col.position())
        .and_then(|v| v.downcast_ref::<C>())
        .ok_or_else(|| Error::InvalidQuery {
            table: T::NAME,
            reason: format!(
                "column descriptor `{}` does not belong to table `{}` (use the descriptor the \
             derive generates, `{}::{}()`)",
                col.name(),
                T::NAME,
                std::any::type_name::<T>(),
                col.name()
            ),
        })
}

/// One group's or one query's running aggregates.
type Groups<G, N> = Vec<(G, Acc<<N as Numeric>::Value, <N as Numeric>::Sum>)>;

fn step<T: Table, N: Numeric>(
    acc: &mut Acc<N::Value, N::Sum>,
    doc: &Doc<T>,
    col: Option<Col<T, N>>,
) -> Result<()> {
    acc.rows += 1;
    let Some(col) = col else { return Ok(()) };
    let value = value(col, doc)?;
    let Some(v) = value.numeric() else {
        return Ok(());
    };
    acc.count += 1;
    acc.sum = acc.sum.and_then(|s| N::add(s, v));
    let mut key = Vec::new();
    value.encode_key(&mut key).map_err(|e| Error::Encode {
        table: T::NAME,
        column: col.name(),
        detail: e.detail,
    })?;
    if acc.min.as_ref().is_none_or(|(k, _)| key < *k) {
        acc.min = Some((key.clone(), v));
    }
    if acc.max.as_ref().is_none_or(|(k, _)| key > *k) {
        acc.max = Some((key, v));
    }
    Ok(())
}

fn overflow<T: Table, C>(col: Col<T, C>) -> Error {
    Error::InvalidQuery {
        table: T::NAME,
        reason: format!(
            "the sum of column `{}` does not fit in its sum type (i128, or u128 for u128 \
             columns); sum a narrower set of rows or sum in your own code",
            col.name()
        ),
    }
}

fn mean<N: Numeric>(acc: &Acc<N::Value, N::Sum>) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    let n = acc.count as f64;
    (acc.count > 0).then(|| N::sum_f64(acc.sum.unwrap_or_default()) / n)
}

impl<'tx, T: Table> Query<'tx, T> {
    /// Runs `f` on every row the query returns (after `offset`, at most `limit`), without
    /// loading relations.
    fn for_each_row(&self, mut f: impl FnMut(&Doc<T>) -> Result<()>) -> Result<()> {
        let _span = crate::trace::query(self.tx.span(), T::NAME, "aggregate");
        if self.limit == Some(0) {
            return Ok(());
        }
        let mut exec = self.exec(None, self.limit)?;
        exec.skip(self.offset)?;
        let mut left = self.limit;
        while let Some(doc) = exec.next()? {
            f(&doc)?;
            if let Some(n) = &mut left {
                *n -= 1;
                if *n == 0 {
                    break;
                }
            }
        }
        Ok(())
    }

    fn fold<N: Numeric>(&self, col: Col<T, N>) -> Result<Acc<N::Value, N::Sum>> {
        let mut acc = Acc::new();
        self.for_each_row(|doc| step(&mut acc, doc, Some(col)))?;
        Ok(acc)
    }

    /// Whether any row matches. Reads at most one row (or index entry).
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Order { #[index] total: u32 }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Order>().in_memory()?;
    /// db.write(|tx| { tx.insert(Order { total: 5 })?; tx.insert(Order { total: 40 })?; Ok(()) })?;
    /// let tx = db.read()?;
    /// let q = tx.query::<Order>();
    /// assert!(q.filter(Order::total().gt(10u32)).exists()?);
    /// assert_eq!(tx.query::<Order>().sum(Order::total())?, 45);
    /// assert_eq!(tx.query::<Order>().avg(Order::total())?, Some(22.5));
    /// assert_eq!(tx.query::<Order>().max(Order::total())?, Some(40)); // one index entry read
    /// # Ok(()) }
    /// ```
    pub fn exists(&self) -> Result<bool> {
        let mut q = self.clone_query();
        q.withs.clear();
        q.order.clear();
        Ok(q.first()?.is_some())
    }

    /// The sum of `col` over the matching rows (`None` values skipped); 0 for no rows.
    /// Integer sums are checked: one that does not fit is [`Error::InvalidQuery`].
    pub fn sum<N: Numeric>(&self, col: Col<T, N>) -> Result<N::Sum> {
        self.fold(col)?.sum.ok_or_else(|| overflow(col))
    }

    /// The mean of `col` over the matching rows that have a value; `None` when none has.
    pub fn avg<N: Numeric>(&self, col: Col<T, N>) -> Result<Option<f64>> {
        let acc = self.fold(col)?;
        if acc.sum.is_none() {
            return Err(overflow(col));
        }
        Ok(mean::<N>(&acc))
    }

    /// The smallest value of `col` among the matching rows (`None` values skipped; floats in
    /// total order, as `order_by` sorts them); `None` when no row has one. When an index
    /// serves `order_by(col)` for this query, one index entry and one row are read.
    pub fn min<N: Numeric>(&self, col: Col<T, N>) -> Result<Option<N::Value>> {
        self.extreme(col, false)
    }

    /// The largest value of `col` among the matching rows; see [`min`](Query::min).
    pub fn max<N: Numeric>(&self, col: Col<T, N>) -> Result<Option<N::Value>> {
        self.extreme(col, true)
    }

    fn extreme<N: Numeric>(&self, col: Col<T, N>, desc: bool) -> Result<Option<N::Value>> {
        if self.limit.is_none() && self.offset == 0 {
            let mut q = self.clone_query();
            q.withs.clear();
            q.order = vec![if desc { col.desc() } else { col.asc() }];
            if N::NULLABLE {
                q.filter = Some(match q.filter.take() {
                    None => not_null(col),
                    Some(f) => Expr::And(vec![f, not_null(col)]),
                });
            }
            let info = self.info()?;
            let orders: Vec<(usize, bool)> = q.order.iter().map(order_key).collect();
            let p = plan(
                &info.schema,
                q.filter.as_ref(),
                &orders,
                q.using.map(|u| u.0),
            );
            if p.sort.is_none() {
                return match q.first()? {
                    Some(d) => Ok(value(col, &d)?.numeric()),
                    None => Ok(None),
                };
            }
        }
        let acc = self.fold(col)?;
        Ok(if desc { acc.max } else { acc.min }.map(|(_, v)| v))
    }

    /// Groups the matching rows by `col`, which must lead an index: groups are read in that
    /// index's order (no sort), smallest key first. In strict mode a column that leads no
    /// index is [`Error::IndexRequired`]; otherwise the groups are gathered in memory.
    ///
    /// ```
    /// use redorm::prelude::*;
    /// #[derive(Table, Debug)]
    /// struct Sale { #[index] region: String, amount: i64 }
    ///
    /// # fn main() -> Result<(), redorm::Error> {
    /// let db = Db::builder().table::<Sale>().in_memory()?;
    /// db.write(|tx| {
    ///     for (region, amount) in [("west", 5), ("east", 7), ("west", 1)] {
    ///         tx.insert(Sale { region: region.into(), amount })?;
    ///     }
    ///     Ok(())
    /// })?;
    /// let tx = db.read()?;
    /// let by_region = tx.query::<Sale>().group_by(Sale::region());
    /// assert_eq!(by_region.count()?, [("east".to_string(), 1), ("west".to_string(), 2)]);
    /// assert_eq!(by_region.sum(Sale::amount())?, [("east".to_string(), 7), ("west".to_string(), 6)]);
    /// # Ok(()) }
    /// ```
    pub fn group_by<G: Column + Clone>(&self, col: Col<T, G>) -> GroupBy<'tx, T, G> {
        GroupBy {
            query: self.clone_query(),
            col,
        }
    }
}

fn order_key<T>(o: &Order<T>) -> (usize, bool) {
    (o.column, o.desc)
}

fn not_null<T, C>(col: Col<T, C>) -> Expr {
    Expr::Pred {
        column: col.position(),
        name: col.name(),
        nullable: true,
        pred: Pred::IsNotNull,
    }
}

/// A query's rows grouped by one column; from [`Query::group_by`]. Each aggregate returns
/// one `(group value, result)` pair per group that has rows, in the grouping index's order.
pub struct GroupBy<'tx, T, G> {
    query: Query<'tx, T>,
    col: Col<T, G>,
}

impl<T, G> fmt::Debug for GroupBy<'_, T, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupBy")
            .field("query", &self.query)
            .field("by", &self.col.name())
            .finish()
    }
}

impl<T: Table, G: Column + Clone> GroupBy<'_, T, G> {
    fn groups<N: Numeric>(&self, agg: Option<Col<T, N>>) -> Result<Groups<G, N>> {
        let info = self.query.info()?;
        let by = self.col.position();
        let leading = info
            .schema
            .indexes
            .iter()
            .position(|i| i.columns.first() == Some(&by));
        let mut q = self.query.clone_query();
        q.withs.clear();
        q.order.clear();
        let key_of = |doc: &Doc<T>| -> Result<Vec<u8>> {
            let mut k = Vec::new();
            column_key(doc, by, &mut k).map_err(|e| Error::Encode {
                table: T::NAME,
                column: self.col.name(),
                detail: e.detail,
            })?;
            Ok(k)
        };
        match leading {
            Some(index) => {
                if q.using.is_none_or(|(u, _)| u != index) {
                    q.using = Some((index, info.schema.indexes[index].name));
                }
                // Rows come in index order: each group is one run.
                let mut out: Groups<G, N> = Vec::new();
                let mut last: Option<Vec<u8>> = None;
                q.for_each_row(|doc| {
                    let k = key_of(doc)?;
                    if last.as_ref() != Some(&k) {
                        out.push((value(self.col, doc)?.clone(), Acc::new()));
                        last = Some(k);
                    }
                    match out.last_mut() {
                        Some((_, acc)) => step(acc, doc, agg),
                        None => Ok(()),
                    }
                })?;
                Ok(out)
            }
            None => {
                let strict = q.db.strict && !q.allow_full_scan;
                if strict {
                    let name = self.col.name();
                    return Err(Error::IndexRequired {
                        table: T::NAME,
                        filter: format!("the group_by {name}"),
                        suggestion: format!(
                            "Add `index(by_{name} = [{name}])` (or any index whose first \
                             column is `{name}`) to the table's #[table(...)] attribute"
                        ),
                    });
                }
                type Group<G, N> = (G, Acc<<N as Numeric>::Value, <N as Numeric>::Sum>);
                let mut groups: BTreeMap<Vec<u8>, Group<G, N>> = BTreeMap::new();
                q.for_each_row(|doc| {
                    let k = key_of(doc)?;
                    let (_, acc) = match groups.entry(k) {
                        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::btree_map::Entry::Vacant(e) => {
                            e.insert((value(self.col, doc)?.clone(), Acc::new()))
                        }
                    };
                    step(acc, doc, agg)
                })?;
                Ok(groups.into_values().collect())
            }
        }
    }

    /// The number of rows in each group.
    pub fn count(&self) -> Result<Vec<(G, usize)>> {
        let groups = self.groups::<u8>(None)?;
        Ok(groups.into_iter().map(|(g, a)| (g, a.rows)).collect())
    }

    /// The sum of `col` in each group (see [`Query::sum`]).
    pub fn sum<N: Numeric>(&self, col: Col<T, N>) -> Result<Vec<(G, N::Sum)>> {
        let groups = self.groups(Some(col))?;
        groups
            .into_iter()
            .map(|(g, a)| Ok((g, a.sum.ok_or_else(|| overflow(col))?)))
            .collect()
    }

    /// The mean of `col` in each group (`None` for a group where no row has a value).
    pub fn avg<N: Numeric>(&self, col: Col<T, N>) -> Result<Vec<(G, Option<f64>)>> {
        let groups = self.groups(Some(col))?;
        groups
            .into_iter()
            .map(|(g, a)| {
                if a.sum.is_none() {
                    return Err(overflow(col));
                }
                Ok((g, mean::<N>(&a)))
            })
            .collect()
    }

    /// The smallest value of `col` in each group.
    pub fn min<N: Numeric>(&self, col: Col<T, N>) -> Result<Vec<(G, Option<N::Value>)>> {
        let groups = self.groups(Some(col))?;
        Ok(groups
            .into_iter()
            .map(|(g, a)| (g, a.min.map(|(_, v)| v)))
            .collect())
    }

    /// The largest value of `col` in each group.
    pub fn max<N: Numeric>(&self, col: Col<T, N>) -> Result<Vec<(G, Option<N::Value>)>> {
        let groups = self.groups(Some(col))?;
        Ok(groups
            .into_iter()
            .map(|(g, a)| (g, a.max.map(|(_, v)| v)))
            .collect())
    }
}
