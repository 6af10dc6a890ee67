//! The read side of lineage: parents, ancestors, descendants (paged, with counts), the family
//! around a model and the merge base of two models. Every answer is filtered by what the
//! viewer may see: a private model they cannot see is never named, counted or drawn.

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::schema::{accounts, lineage_closure, lineage_counts, lineage_edges, repos};
use crate::error::{ApiError, ApiResult};
use crate::repos::access::Viewer;
use crate::with_conn;

/// Most nodes one ancestors or family answer holds.
pub const MAX_NODES: i64 = 1000;

/// A model in a lineage answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Node {
    pub id: String,
    pub private: bool,
    /// Distance from the model asked about (shortest path).
    pub depth: i32,
    /// This model's relation to its own parents (`none` for a root).
    pub relation: String,
}

/// An edge as shown to a viewer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EdgeView {
    pub child: String,
    pub child_commit: String,
    /// The parent's id; `null` when the parent is private and hidden from the viewer.
    pub parent: Option<String>,
    pub parent_commit: Option<String>,
    /// False when the parent was deleted or is hidden from the viewer.
    pub available: bool,
    /// `deleted` or `hidden` when not available.
    pub unavailable_reason: Option<String>,
    pub relation: String,
    pub relation_stated: bool,
    pub source: String,
    pub verification: Option<String>,
    #[schema(value_type = Object)]
    pub evidence: Option<Value>,
    pub merge_weight: Option<f64>,
    pub merge_base: bool,
    #[schema(value_type = Object)]
    pub recipe: Option<Value>,
}

type EdgeRow = (
    i64,
    String,
    Option<i64>,
    String,
    Option<String>,
    String,
    bool,
    String,
    String,
    String,
    Option<f64>,
    bool,
    Option<String>,
);

/// id -> (owner/name, owner_id, private) for the given repo ids.
fn repo_names(conn: &mut DbConn, ids: &[i64]) -> ApiResult<HashMap<i64, (String, i64, bool)>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, String, String, i64, bool)> = with_conn!(conn, |c| repos::table
            .inner_join(accounts::table.on(accounts::id.eq(repos::owner_id)))
            .filter(repos::id.eq_any(chunk))
            .select((
                repos::id,
                accounts::name,
                repos::name,
                repos::owner_id,
                repos::private
            ))
            .load(c))?;
        for (id, owner, name, owner_id, private) in rows {
            out.insert(id, (format!("{owner}/{name}"), owner_id, private));
        }
    }
    Ok(out)
}

/// The current edges whose child is one of `children`, as the viewer may see them.
pub fn edges_of(
    conn: &mut DbConn,
    viewer: &Viewer,
    children: &[i64],
) -> ApiResult<Vec<(i64, EdgeView)>> {
    let mut rows: Vec<EdgeRow> = Vec::new();
    for chunk in children.chunks(500) {
        let mut part: Vec<EdgeRow> = with_conn!(conn, |c| lineage_edges::table
            .filter(lineage_edges::child_repo_id.eq_any(chunk))
            .filter(lineage_edges::is_current.eq(true))
            .order((
                lineage_edges::child_repo_id.asc(),
                lineage_edges::position.asc(),
                lineage_edges::id.asc(),
            ))
            .select((
                lineage_edges::child_repo_id,
                lineage_edges::child_commit,
                lineage_edges::parent_repo_id,
                lineage_edges::parent_name,
                lineage_edges::parent_commit,
                lineage_edges::relation,
                lineage_edges::relation_stated,
                lineage_edges::source,
                lineage_edges::verification,
                lineage_edges::evidence,
                lineage_edges::merge_weight,
                lineage_edges::merge_base,
                lineage_edges::recipe,
            ))
            .load(c))?;
        rows.append(&mut part);
    }
    let mut ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    ids.extend(rows.iter().filter_map(|r| r.2));
    let names = repo_names(conn, &ids)?;
    let mut out = Vec::with_capacity(rows.len());
    for (
        child,
        child_commit,
        parent,
        parent_name,
        parent_commit,
        relation,
        stated,
        source,
        verification,
        evidence,
        weight,
        merge_base,
        recipe,
    ) in rows
    {
        let child_name = names.get(&child).map(|n| n.0.clone()).unwrap_or_default();
        let parent_info = parent.and_then(|p| names.get(&p));
        let (parent_id, available, reason) = match parent_info {
            // A deleted parent keeps its declared name, unless it was private (then blank).
            None => (
                Some(parent_name).filter(|n| !n.is_empty()),
                false,
                Some("deleted".to_string()),
            ),
            Some((name, owner, private)) if viewer.can_see(*owner, *private) => {
                (Some(name.clone()), true, None)
            }
            Some(_) => (None, false, Some("hidden".to_string())),
        };
        let hidden = reason.as_deref() == Some("hidden");
        out.push((
            child,
            EdgeView {
                child: child_name,
                child_commit,
                parent: parent_id,
                parent_commit: if hidden { None } else { parent_commit },
                available,
                unavailable_reason: reason,
                relation,
                relation_stated: stated,
                source,
                verification: (!hidden).then_some(verification),
                evidence: if hidden {
                    None
                } else {
                    serde_json::from_str(&evidence).ok()
                },
                merge_weight: weight,
                merge_base,
                recipe: recipe.and_then(|r| serde_json::from_str(&r).ok()),
            },
        ));
    }
    Ok(out)
}

fn visible_filter_ids(viewer: &Viewer) -> Option<Vec<i64>> {
    (!viewer.all).then(|| viewer.owners.clone())
}

/// Visible ancestors of `id`, nearest first, at most `max_depth` away.
pub fn ancestors(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: i64,
    max_depth: i32,
) -> ApiResult<(Vec<(i64, Node)>, bool)> {
    let owners = visible_filter_ids(viewer);
    let rows: Vec<(i64, i32, bool, String, String)> = with_conn!(conn, |c| {
        let mut q = lineage_closure::table
            .inner_join(repos::table.on(repos::id.eq(lineage_closure::ancestor_id)))
            .inner_join(accounts::table.on(accounts::id.eq(repos::owner_id)))
            .filter(lineage_closure::descendant_id.eq(id))
            .filter(lineage_closure::depth.le(max_depth))
            .into_boxed();
        if let Some(owners) = &owners {
            q = q.filter(
                repos::private
                    .eq(false)
                    .or(repos::owner_id.eq_any(owners.clone())),
            );
        }
        q.order((
            lineage_closure::depth.asc(),
            lineage_closure::ancestor_id.asc(),
        ))
        .limit(MAX_NODES + 1)
        .select((
            lineage_closure::ancestor_id,
            lineage_closure::depth,
            repos::private,
            accounts::name,
            repos::name,
        ))
        .load(c)
    })?;
    let truncated = rows.len() as i64 > MAX_NODES;
    let ids: Vec<i64> = rows.iter().take(MAX_NODES as usize).map(|r| r.0).collect();
    let relations = relations_of(conn, &ids)?;
    let nodes = rows
        .into_iter()
        .take(MAX_NODES as usize)
        .map(|(aid, depth, private, owner, name)| {
            let node = Node {
                id: format!("{owner}/{name}"),
                private,
                depth,
                relation: relations
                    .get(&aid)
                    .cloned()
                    .unwrap_or_else(|| "none".into()),
            };
            (aid, node)
        })
        .collect();
    Ok((nodes, truncated))
}

/// Each node's own relation (from its first current edge).
fn relations_of(conn: &mut DbConn, ids: &[i64]) -> ApiResult<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, String)> = with_conn!(conn, |c| lineage_edges::table
            .filter(lineage_edges::child_repo_id.eq_any(chunk))
            .filter(lineage_edges::is_current.eq(true))
            .order((lineage_edges::position.desc(), lineage_edges::id.desc()))
            .select((lineage_edges::child_repo_id, lineage_edges::relation))
            .load(c))?;
        for (id, rel) in rows {
            out.insert(id, rel); // ordered so the first edge is written last and wins
        }
    }
    Ok(out)
}

/// One page of descendants.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescendantsPage {
    pub items: Vec<Node>,
    #[serde(skip)]
    pub ids: Vec<i64>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Parses a `depth.id` cursor.
pub fn parse_cursor(raw: &str) -> ApiResult<(i32, i64)> {
    raw.split_once('.')
        .and_then(|(d, i)| Some((d.parse().ok()?, i.parse().ok()?)))
        .ok_or_else(|| ApiError::BadRequest(format!("invalid cursor {raw:?}")))
}

/// Descendants of `id`, nearest first then by id, optionally of one relation.
pub fn descendants(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: i64,
    relation: Option<&str>,
    max_depth: Option<i32>,
    cursor: Option<(i32, i64)>,
    limit: i64,
) -> ApiResult<DescendantsPage> {
    let owners = visible_filter_ids(viewer);
    let rows: Vec<(i64, i32, String, bool, String, String)> = with_conn!(conn, |c| {
        let mut q = lineage_closure::table
            .inner_join(repos::table.on(repos::id.eq(lineage_closure::descendant_id)))
            .inner_join(accounts::table.on(accounts::id.eq(repos::owner_id)))
            .filter(lineage_closure::ancestor_id.eq(id))
            .into_boxed();
        if let Some(rel) = relation {
            q = q.filter(lineage_closure::relation.eq(rel.to_string()));
        }
        if let Some(d) = max_depth {
            q = q.filter(lineage_closure::depth.le(d));
        }
        if let Some(owners) = &owners {
            q = q.filter(
                lineage_closure::private
                    .eq(false)
                    .or(repos::owner_id.eq_any(owners.clone())),
            );
        }
        if let Some((d, last)) = cursor {
            q = q.filter(
                lineage_closure::depth.gt(d).or(lineage_closure::depth
                    .eq(d)
                    .and(lineage_closure::descendant_id.gt(last))),
            );
        }
        q.order((
            lineage_closure::depth.asc(),
            lineage_closure::descendant_id.asc(),
        ))
        .limit(limit + 1)
        .select((
            lineage_closure::descendant_id,
            lineage_closure::depth,
            lineage_closure::relation,
            repos::private,
            accounts::name,
            repos::name,
        ))
        .load(c)
    })?;
    let more = rows.len() as i64 > limit;
    let items: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = if more {
        items.last().map(|(id, d, ..)| format!("{d}.{id}"))
    } else {
        None
    };
    Ok(DescendantsPage {
        ids: items.iter().map(|r| r.0).collect(),
        items: items
            .into_iter()
            .map(|(_, depth, relation, private, owner, name)| Node {
                id: format!("{owner}/{name}"),
                private,
                depth,
                relation,
            })
            .collect(),
        next_cursor,
    })
}

/// Children and descendants of `id` per relation, as the viewer may count them: the maintained
/// public counts plus the private descendants the viewer may see.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Counts {
    pub children: BTreeMap<String, i64>,
    pub descendants: BTreeMap<String, i64>,
    #[serde(rename = "childrenTotal")]
    pub children_total: i64,
    #[serde(rename = "descendantsTotal")]
    pub descendants_total: i64,
}

pub fn counts(conn: &mut DbConn, viewer: &Viewer, id: i64) -> ApiResult<Counts> {
    let rows: Vec<(String, i64, i64)> = with_conn!(conn, |c| lineage_counts::table
        .filter(lineage_counts::repo_id.eq(id))
        .select((
            lineage_counts::relation,
            lineage_counts::children,
            lineage_counts::descendants,
        ))
        .load(c))?;
    let mut out = Counts::default();
    for (rel, ch, de) in rows {
        if ch != 0 {
            *out.children.entry(rel.clone()).or_default() += ch;
        }
        if de != 0 {
            *out.descendants.entry(rel).or_default() += de;
        }
    }
    // Private descendants: few, and only those the viewer may see.
    let private_rows: Vec<(String, i32, i64)> = with_conn!(conn, |c| {
        let mut q = lineage_closure::table
            .inner_join(repos::table.on(repos::id.eq(lineage_closure::descendant_id)))
            .filter(lineage_closure::ancestor_id.eq(id))
            .filter(lineage_closure::private.eq(true))
            .into_boxed();
        if !viewer.all {
            q = q.filter(repos::owner_id.eq_any(viewer.owners.clone()));
        }
        q.select((lineage_closure::relation, lineage_closure::depth, repos::id))
            .load(c)
    })?;
    for (rel, depth, _) in private_rows {
        if depth == 1 {
            *out.children.entry(rel.clone()).or_default() += 1;
        }
        *out.descendants.entry(rel).or_default() += 1;
    }
    out.children_total = out.children.values().sum();
    out.descendants_total = out.descendants.values().sum();
    Ok(out)
}

/// The family of `id` within `depth`: its ancestors and descendants that close, and the
/// current edges among them.
pub fn family(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: i64,
    self_node: Node,
    depth: i32,
) -> ApiResult<(Vec<Node>, Vec<EdgeView>, bool)> {
    let (up, mut truncated) = ancestors(conn, viewer, id, depth)?;
    let down = descendants(conn, viewer, id, None, Some(depth), None, MAX_NODES)?;
    truncated |= down.next_cursor.is_some();
    let mut ids: Vec<i64> = up.iter().map(|(i, _)| *i).collect();
    let mut nodes: Vec<Node> = up.into_iter().map(|(_, n)| n).collect();
    ids.extend(&down.ids);
    for mut n in down.items {
        n.depth = -n.depth; // below the model: negative depth
        nodes.push(n);
    }
    ids.push(id);
    nodes.push(self_node);
    let id_set: HashSet<&String> = nodes.iter().map(|n| &n.id).collect();
    let edges = edges_of(conn, viewer, &ids)?
        .into_iter()
        .map(|(_, e)| e)
        .filter(|e| e.parent.as_ref().is_some_and(|p| id_set.contains(p)))
        .collect();
    Ok((nodes, edges, truncated))
}

/// The best common ancestors of `a` and `b` (none is an ancestor of another), as git's
/// merge-base: with the distance from each side.
pub fn merge_base(
    conn: &mut DbConn,
    viewer: &Viewer,
    a: i64,
    b: i64,
) -> ApiResult<Vec<(i64, i32, i32)>> {
    if a == b {
        return Ok(vec![(a, 0, 0)]);
    }
    let up = |conn: &mut DbConn, id: i64| -> ApiResult<HashMap<i64, i32>> {
        let rows: Vec<(i64, i32)> = with_conn!(conn, |c| lineage_closure::table
            .filter(lineage_closure::descendant_id.eq(id))
            .select((lineage_closure::ancestor_id, lineage_closure::depth))
            .load(c))?;
        let mut m: HashMap<i64, i32> = rows.into_iter().collect();
        m.insert(id, 0);
        Ok(m)
    };
    let ua = up(conn, a)?;
    let ub = up(conn, b)?;
    let candidates: Vec<i64> = ua.keys().filter(|k| ub.contains_key(k)).copied().collect();
    // Only what the viewer may see takes part: a hidden ancestor neither shows nor hides others.
    let names = repo_names(conn, &candidates)?;
    let common: Vec<i64> = candidates
        .into_iter()
        .filter(|c| names.get(c).is_some_and(|(_, o, p)| viewer.can_see(*o, *p)))
        .collect();
    if common.is_empty() {
        return Ok(Vec::new());
    }
    // Drop common ancestors that are ancestors of another common ancestor.
    let rows: Vec<(i64, i64)> = with_conn!(conn, |c| lineage_closure::table
        .filter(lineage_closure::ancestor_id.eq_any(&common))
        .filter(lineage_closure::descendant_id.eq_any(&common))
        .select((lineage_closure::ancestor_id, lineage_closure::descendant_id))
        .load(c))?;
    let dominated: HashSet<i64> = rows.into_iter().map(|(anc, _)| anc).collect();
    let mut best: Vec<(i64, i32, i32)> = common
        .into_iter()
        .filter(|c| !dominated.contains(c))
        .map(|c| (c, ua[&c], ub[&c]))
        .collect();
    best.sort_by_key(|(id, da, db)| (da + db, *id));
    Ok(best)
}

/// `owner/name` of a repo id.
pub fn name_of(conn: &mut DbConn, id: i64) -> ApiResult<Option<String>> {
    Ok(repo_names(conn, &[id])?.remove(&id).map(|x| x.0))
}
