//! The transitive closure of the current lineage edges and the maintained counts.
//!
//! Every change goes through [`refresh`]: given a node whose parents (or relation) changed, it
//! recomputes the ancestor set of that node and of everything below it, in topological order,
//! and applies only the difference, adjusting `lineage_counts` by the same difference. A new
//! leaf (the common case) touches one row per ancestor. Counts hold public descendants only;
//! private ones are counted per request for those allowed to see them.

use std::collections::{HashMap, HashSet, VecDeque};

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::DbConn;
use crate::db::schema::{lineage_closure, lineage_counts, lineage_edges, repos};
use crate::error::ApiResult;
use crate::with_conn;

type Ancestors = HashMap<i64, i32>;

/// Count changes per (repo, relation): (children, descendants).
#[derive(Default)]
struct CountDelta(HashMap<(i64, String), (i64, i64)>);

impl CountDelta {
    fn add(&mut self, ancestor: i64, relation: &str, depth: i32, sign: i64) {
        let slot = self.0.entry((ancestor, relation.to_string())).or_default();
        slot.1 += sign;
        if depth == 1 {
            slot.0 += sign;
        }
    }

    fn apply(self, conn: &mut DbConn) -> ApiResult<()> {
        for ((repo_id, relation), (children, descendants)) in self.0 {
            if children == 0 && descendants == 0 {
                continue;
            }
            with_conn!(conn, |c| diesel::insert_into(lineage_counts::table)
                .values((
                    lineage_counts::repo_id.eq(repo_id),
                    lineage_counts::relation.eq(&relation),
                    lineage_counts::children.eq(children),
                    lineage_counts::descendants.eq(descendants),
                ))
                .on_conflict((lineage_counts::repo_id, lineage_counts::relation))
                .do_update()
                .set((
                    lineage_counts::children
                        .eq(lineage_counts::children + excluded(lineage_counts::children)),
                    lineage_counts::descendants
                        .eq(lineage_counts::descendants + excluded(lineage_counts::descendants)),
                ))
                .execute(c))?;
        }
        Ok(())
    }
}

/// The distinct current parent repos of `child`.
pub fn current_parents(conn: &mut DbConn, child: i64) -> ApiResult<Vec<i64>> {
    let rows: Vec<Option<i64>> = with_conn!(conn, |c| lineage_edges::table
        .filter(lineage_edges::child_repo_id.eq(child))
        .filter(lineage_edges::is_current.eq(true))
        .select(lineage_edges::parent_repo_id)
        .load(c))?;
    let mut out: Vec<i64> = rows.into_iter().flatten().collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A node's relation to its parents: that of its first current edge (a fork edge comes first).
pub fn node_relation(conn: &mut DbConn, id: i64) -> ApiResult<Option<String>> {
    Ok(with_conn!(conn, |c| lineage_edges::table
        .filter(lineage_edges::child_repo_id.eq(id))
        .filter(lineage_edges::is_current.eq(true))
        .order((lineage_edges::position.asc(), lineage_edges::id.asc()))
        .select(lineage_edges::relation)
        .first(c)
        .optional())?)
}

/// Stored ancestors of `id`: ancestor -> (depth, relation, private) of the row.
fn stored_rows(conn: &mut DbConn, id: i64) -> ApiResult<HashMap<i64, (i32, String, bool)>> {
    let rows: Vec<(i64, i32, String, bool)> = with_conn!(conn, |c| lineage_closure::table
        .filter(lineage_closure::descendant_id.eq(id))
        .select((
            lineage_closure::ancestor_id,
            lineage_closure::depth,
            lineage_closure::relation,
            lineage_closure::private,
        ))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(a, d, r, p)| (a, (d, r, p)))
        .collect())
}

/// True when `ancestor` is a (strict) ancestor of `descendant`.
pub fn is_ancestor(conn: &mut DbConn, ancestor: i64, descendant: i64) -> ApiResult<bool> {
    let n: i64 = with_conn!(conn, |c| lineage_closure::table
        .filter(lineage_closure::ancestor_id.eq(ancestor))
        .filter(lineage_closure::descendant_id.eq(descendant))
        .count()
        .get_result(c))?;
    Ok(n > 0)
}

/// Recomputes the closure rows of `start` and of all its descendants, after `start`'s current
/// edges changed. Call inside the transaction that changed the edges.
pub fn refresh(conn: &mut DbConn, start: i64) -> ApiResult<()> {
    // `start` first, alone: its parents are never below it (no cycles), so their stored rows
    // are current. When its ancestors, relation and visibility come out unchanged, nothing
    // below it changes either, and the subtree is left alone (a commit that keeps the same
    // parents costs a few queries, not a walk over every descendant).
    let mut delta = CountDelta::default();
    let mut start_anc: Ancestors = HashMap::new();
    for p in current_parents(conn, start)? {
        start_anc.entry(p).or_insert(1);
        for (a, (d, _, _)) in stored_rows(conn, p)? {
            let e = start_anc.entry(a).or_insert(d + 1);
            *e = (*e).min(d + 1);
        }
    }
    start_anc.remove(&start);
    if !apply_node(conn, start, &start_anc, &mut delta)? {
        return delta.apply(conn);
    }
    // The subtree below `start` is defined by edges below it, which did not change.
    let below: Vec<i64> = with_conn!(conn, |c| lineage_closure::table
        .filter(lineage_closure::ancestor_id.eq(start))
        .select(lineage_closure::descendant_id)
        .load(c))?;
    let mut nodes: Vec<i64> = vec![start];
    nodes.extend(below.iter().copied().filter(|d| *d != start));
    let in_subtree: HashSet<i64> = nodes.iter().copied().collect();

    // Parents of every subtree node, then a topological order (Kahn) inside the subtree.
    let mut parents: HashMap<i64, Vec<i64>> = HashMap::new();
    for chunk in nodes.chunks(500) {
        let rows: Vec<(i64, Option<i64>)> = with_conn!(conn, |c| lineage_edges::table
            .filter(lineage_edges::child_repo_id.eq_any(chunk))
            .filter(lineage_edges::is_current.eq(true))
            .select((lineage_edges::child_repo_id, lineage_edges::parent_repo_id))
            .load(c))?;
        for (child, parent) in rows {
            if let Some(p) = parent {
                let list = parents.entry(child).or_default();
                if !list.contains(&p) {
                    list.push(p);
                }
            }
        }
    }
    let mut indegree: HashMap<i64, usize> = nodes.iter().map(|n| (*n, 0)).collect();
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for (child, ps) in &parents {
        for p in ps {
            if in_subtree.contains(p) && *child != start {
                *indegree.get_mut(child).expect("subtree node") += 1;
                children.entry(*p).or_default().push(*child);
            }
        }
    }
    // Start with every node nothing inside the subtree points at (after a detach, nodes that
    // lost their only in-subtree parent are roots too).
    let mut queue: VecDeque<i64> = nodes
        .iter()
        .copied()
        .filter(|n| *n == start || indegree[n] == 0)
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(n) = queue.pop_front() {
        order.push(n);
        for ch in children.get(&n).into_iter().flatten() {
            let d = indegree.get_mut(ch).expect("subtree node");
            *d -= 1;
            if *d == 0 {
                queue.push_back(*ch);
            }
        }
    }

    let mut computed: HashMap<i64, Ancestors> = HashMap::new();
    computed.insert(start, start_anc);
    let mut outside: HashMap<i64, Ancestors> = HashMap::new();
    for node in order.into_iter().filter(|n| *n != start) {
        let mut anc: Ancestors = HashMap::new();
        for p in parents.get(&node).into_iter().flatten() {
            let theirs = if let Some(a) = computed.get(p) {
                a.clone()
            } else if let Some(a) = outside.get(p) {
                a.clone()
            } else {
                let a: Ancestors = stored_rows(conn, *p)?
                    .into_iter()
                    .map(|(k, (d, _, _))| (k, d))
                    .collect();
                outside.insert(*p, a.clone());
                a
            };
            let mut put = |k: i64, d: i32| {
                let e = anc.entry(k).or_insert(d);
                *e = (*e).min(d);
            };
            put(*p, 1);
            for (k, d) in theirs {
                put(k, d + 1);
            }
        }
        anc.remove(&node); // a cycle never reaches here, but never store a self row
        apply_node(conn, node, &anc, &mut delta)?;
        computed.insert(node, anc);
    }
    delta.apply(conn)
}

/// Writes the difference between the stored ancestor rows of `node` and `anc`; true when
/// anything changed.
fn apply_node(
    conn: &mut DbConn,
    node: i64,
    anc: &Ancestors,
    delta: &mut CountDelta,
) -> ApiResult<bool> {
    let mut changed = false;
    let relation = node_relation(conn, node)?.unwrap_or_else(|| "none".into());
    let private: bool = with_conn!(conn, |c| repos::table
        .find(node)
        .select(repos::private)
        .first(c)
        .optional())?
    .unwrap_or(true);
    let stored = stored_rows(conn, node)?;
    for (a, (d, rel, was_private)) in &stored {
        match anc.get(a) {
            Some(nd) if nd == d && *rel == relation && *was_private == private => {}
            Some(nd) => {
                changed = true;
                with_conn!(conn, |c| diesel::update(
                    lineage_closure::table.find((*a, node))
                )
                .set((
                    lineage_closure::depth.eq(nd),
                    lineage_closure::relation.eq(&relation),
                    lineage_closure::private.eq(private),
                ))
                .execute(c))?;
                if !was_private {
                    delta.add(*a, rel, *d, -1);
                }
                if !private {
                    delta.add(*a, &relation, *nd, 1);
                }
            }
            None => {
                with_conn!(conn, |c| diesel::delete(
                    lineage_closure::table.find((*a, node))
                )
                .execute(c))?;
                if !was_private {
                    delta.add(*a, rel, *d, -1);
                }
            }
        }
    }
    let new_rows: Vec<_> = anc
        .iter()
        .filter(|(a, _)| !stored.contains_key(a))
        .map(|(a, d)| {
            (
                lineage_closure::ancestor_id.eq(*a),
                lineage_closure::descendant_id.eq(node),
                lineage_closure::depth.eq(*d),
                lineage_closure::relation.eq(relation.clone()),
                lineage_closure::private.eq(private),
            )
        })
        .collect();
    for (a, d) in anc.iter().filter(|(a, _)| !stored.contains_key(a)) {
        if !private {
            delta.add(*a, &relation, *d, 1);
        }
    }
    changed |= !new_rows.is_empty();
    for chunk in new_rows.chunks(200) {
        with_conn!(conn, |c| diesel::insert_into(lineage_closure::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(changed)
}

/// Records a visibility change of `node` in the closure rows and the counts above it.
pub fn set_private(conn: &mut DbConn, node: i64, private: bool) -> ApiResult<()> {
    let stored = stored_rows(conn, node)?;
    let mut delta = CountDelta::default();
    for (a, (d, rel, was_private)) in &stored {
        if *was_private != private {
            delta.add(*a, rel, *d, if private { -1 } else { 1 });
        }
    }
    with_conn!(conn, |c| diesel::update(
        lineage_closure::table.filter(lineage_closure::descendant_id.eq(node))
    )
    .set(lineage_closure::private.eq(private))
    .execute(c))?;
    delta.apply(conn)
}

/// Detaches `node` before its row is deleted: its children lose it as a parent (their edges
/// keep the declared name, with no repo), and the counts above it forget it.
pub fn detach(conn: &mut DbConn, node: i64) -> ApiResult<()> {
    let children: Vec<i64> = with_conn!(conn, |c| lineage_edges::table
        .filter(lineage_edges::parent_repo_id.eq(node))
        .filter(lineage_edges::is_current.eq(true))
        .select(lineage_edges::child_repo_id)
        .distinct()
        .load(c))?;
    let was_private: bool = with_conn!(conn, |c| repos::table
        .find(node)
        .select(repos::private)
        .first(c)
        .optional())?
    .unwrap_or(true);
    if was_private {
        // A deleted private parent stays unnamed: its name, commit and the evidence about its
        // weights were never visible to everyone who can see the children.
        with_conn!(conn, |c| diesel::update(
            lineage_edges::table.filter(lineage_edges::parent_repo_id.eq(node))
        )
        .set((
            lineage_edges::parent_name.eq(""),
            lineage_edges::parent_commit.eq(None::<String>),
            lineage_edges::evidence.eq("{}"),
            lineage_edges::verification.eq("unverified"),
        ))
        .execute(c))?;
    }
    with_conn!(conn, |c| diesel::update(
        lineage_edges::table.filter(lineage_edges::parent_repo_id.eq(node))
    )
    .set(lineage_edges::parent_repo_id.eq(None::<i64>))
    .execute(c))?;
    with_conn!(conn, |c| diesel::update(
        lineage_edges::table
            .filter(lineage_edges::child_repo_id.eq(node))
            .filter(lineage_edges::is_current.eq(true))
    )
    .set(lineage_edges::is_current.eq(false))
    .execute(c))?;
    // The subtree below `node` still holds rows through it; one refresh recomputes it all.
    refresh(conn, node)?;
    for child in children {
        // A child that is not below `node` any more after the refresh has no stored rows
        // through it; refreshing it is cheap and keeps its relation row current.
        refresh(conn, child)?;
    }
    Ok(())
}

/// Serialises every change to the closure and counts across processes: on PostgreSQL an
/// advisory lock held to the end of the transaction (two transactions refreshing overlapping
/// subtrees, or a refresh racing a visibility change, would otherwise each miss the other's
/// rows); on SQLite the write transaction (`BEGIN IMMEDIATE`) already serialises writers.
pub fn lock(conn: &mut DbConn) -> ApiResult<()> {
    if let DbConn::Postgres(c) = conn {
        use diesel::connection::SimpleConnection;
        (**c).batch_execute("SELECT pg_advisory_xact_lock(7419001)")?;
    }
    Ok(())
}
