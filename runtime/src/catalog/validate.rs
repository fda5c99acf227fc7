//! Checks across the registered tables: every relation's target registered, no cycle of
//! required foreign keys; and what tables know of each other once open.

use std::any::TypeId;

use super::registry::{Registration, TableInfo};
use crate::error::{Error, Result};
use crate::model::OnSoftDelete;

/// Fills in what tables know about each other: who references whom, which tables can hold
/// soft-deleted rows, which unique indexes release soft-deleted values.
pub(crate) fn link_tables(
    regs: &[Registration],
    tables: &mut [TableInfo],
    released: &[(TypeId, usize)],
) {
    let slot_of = |t: TypeId| regs.iter().position(|r| r.type_id == t);
    for (child, reg) in regs.iter().enumerate() {
        for (pos, fk) in reg.schema.foreign_keys.iter().enumerate() {
            if let Some(parent) = slot_of(fk.target_type) {
                tables[parent].referenced_by.push((child, pos));
            }
        }
    }
    // A soft cascade can reach any table below a soft or scheduled one.
    let mut changed = true;
    while changed {
        changed = false;
        for parent in 0..tables.len() {
            if !tables[parent].may_hold_deleted {
                continue;
            }
            for (child, pos) in tables[parent].referenced_by.clone() {
                let soft =
                    regs[child].schema.foreign_keys[pos].on_soft_delete == OnSoftDelete::Cascade;
                if soft && !tables[child].may_hold_deleted {
                    tables[child].may_hold_deleted = true;
                    changed = true;
                }
            }
        }
    }
    for &(t, index) in released {
        if let Some(slot) = slot_of(t)
            && let Some(flag) = tables[slot].released.get_mut(index)
        {
            *flag = true;
        }
    }
}

/// Every relation's target (and join table) is registered, and no cycle of required foreign
/// keys makes a first insert impossible.
pub(crate) fn validate_relations(tables: &[Registration]) -> Result<()> {
    let registered = |t: TypeId| tables.iter().any(|r| r.type_id == t);
    for reg in tables {
        let schema = &reg.schema;
        for fk in &schema.foreign_keys {
            if !registered(fk.target_type) {
                return Err(Error::Schema {
                    table: schema.name.to_string(),
                    message: format!(
                        "foreign key `{}` ({}) points at table `{}`, which is not registered; \
                         register it with `.table::<...>()`",
                        schema.columns.get(fk.column).map_or("?", |c| c.name),
                        fk.relation,
                        fk.target
                    ),
                });
            }
        }
        for rel in &schema.relations {
            if !registered(rel.target_type) {
                return Err(Error::Schema {
                    table: schema.name.to_string(),
                    message: format!(
                        "relation `{}` points at table `{}`, which is not registered; register it with `.table::<...>()`",
                        rel.name, rel.target
                    ),
                });
            }
            if let Some((through, t)) = rel.through
                && !registered(t)
            {
                return Err(Error::Schema {
                    table: schema.name.to_string(),
                    message: format!(
                        "relation `{}` goes through join table `{through}`, which is not registered; \
                         register it with `.table::<...>()`",
                        rel.name
                    ),
                });
            }
        }
    }
    // Required foreign keys: child -> parent edges. A cycle means no row could be inserted first.
    let slot_of = |t: TypeId| tables.iter().position(|r| r.type_id == t);
    let edges: Vec<Vec<usize>> = tables
        .iter()
        .map(|r| {
            r.schema
                .foreign_keys
                .iter()
                .filter(|fk| !fk.nullable)
                .filter_map(|fk| slot_of(fk.target_type))
                .collect()
        })
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; tables.len()];
    let mut stack: Vec<usize> = Vec::new();
    fn visit(
        n: usize,
        edges: &[Vec<usize>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[n] = 1;
        stack.push(n);
        for &m in &edges[n] {
            if state[m] == 1 {
                let start = stack.iter().position(|&x| x == m).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(m);
                return Some(cycle);
            }
            if state[m] == 0
                && let Some(c) = visit(m, edges, state, stack)
            {
                return Some(c);
            }
        }
        stack.pop();
        state[n] = 2;
        None
    }
    for n in 0..tables.len() {
        if state[n] == 0
            && let Some(cycle) = visit(n, &edges, &mut state, &mut stack)
        {
            {
                let names: Vec<&str> = cycle.iter().map(|&i| tables[i].schema.name).collect();
                return Err(Error::Schema {
                    table: names[0].to_string(),
                    message: format!(
                        "required foreign keys form a cycle ({}): no row could ever be inserted first. \
                         Make one of these foreign keys an Option<Id<...>>",
                        names.join(" -> ")
                    ),
                });
            }
        }
    }
    Ok(())
}
