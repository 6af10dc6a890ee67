//! A lineage family drawn as an SVG: a layered layout (ancestors above, descendants below, one
//! layer per generation), nodes ordered within a layer by the mean position of their parents
//! (two barycentre sweeps, which removes most crossings in real families), edges coloured by
//! relation and dashed unless the weights verified them. Pure string output, no script: every
//! node is a link to its model page.

use std::collections::HashMap;
use std::fmt::Write;

/// A model in the family; `depth` > 0 for ancestors, < 0 for descendants, 0 for the model.
#[derive(Debug, Clone)]
pub struct DagNode {
    pub id: String,
    pub depth: i32,
    pub relation: String,
}

#[derive(Debug, Clone)]
pub struct DagEdge {
    pub parent: String,
    pub child: String,
    pub relation: String,
    /// `verified`, `contradicted` or `unverified`.
    pub verification: String,
}

const W: i32 = 180;
const H: i32 = 40;
const GAP_X: i32 = 24;
const GAP_Y: i32 = 56;
const PAD: i32 = 12;

/// Colours per relation (WCAG AA on white), shared with the legend.
pub const RELATIONS: [(&str, &str); 6] = [
    ("finetune", "#1f6f43"),
    ("adapter", "#6b3fa0"),
    ("quantized", "#8a4b00"),
    ("merge", "#0b5cad"),
    ("fork", "#5b636b"),
    ("distill", "#a4161a"),
];

fn colour(relation: &str) -> &'static str {
    RELATIONS
        .iter()
        .find(|(r, _)| *r == relation)
        .map_or("#5b636b", |(_, c)| c)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn short(id: &str) -> String {
    if id.chars().count() <= 24 {
        id.to_string()
    } else {
        format!("{}…", id.chars().take(23).collect::<String>())
    }
}

/// The SVG for `nodes` and `edges`; `current` is highlighted.
pub fn render(nodes: &[DagNode], edges: &[DagEdge], current: &str) -> String {
    if nodes.is_empty() {
        return String::new();
    }
    let top = nodes.iter().map(|n| n.depth).max().unwrap_or(0);
    let layers_n = (top - nodes.iter().map(|n| n.depth).min().unwrap_or(0) + 1) as usize;
    let mut layers: Vec<Vec<&DagNode>> = vec![Vec::new(); layers_n];
    for n in nodes {
        layers[(top - n.depth) as usize].push(n);
    }
    for layer in &mut layers {
        layer.sort_by(|a, b| a.id.cmp(&b.id));
    }
    // Barycentre sweeps: down by parents' positions, then up by children's.
    let mut pos: HashMap<&str, f64> = HashMap::new();
    for sweep in 0..2 {
        let order: Vec<usize> = if sweep == 0 {
            (0..layers_n).collect()
        } else {
            (0..layers_n).rev().collect()
        };
        for &li in &order {
            for (i, n) in layers[li].iter().enumerate() {
                pos.entry(n.id.as_str()).or_insert(i as f64);
            }
            let mut keyed: Vec<(f64, &DagNode)> = layers[li]
                .iter()
                .map(|n| {
                    let neighbours: Vec<f64> = edges
                        .iter()
                        .filter_map(|e| {
                            let other = if sweep == 0 {
                                (e.child == n.id).then_some(e.parent.as_str())
                            } else {
                                (e.parent == n.id).then_some(e.child.as_str())
                            };
                            other.and_then(|o| pos.get(o).copied())
                        })
                        .collect();
                    let key = if neighbours.is_empty() {
                        pos[n.id.as_str()]
                    } else {
                        neighbours.iter().sum::<f64>() / neighbours.len() as f64
                    };
                    (key, *n)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
            layers[li] = keyed.into_iter().map(|(_, n)| n).collect();
            for (i, n) in layers[li].iter().enumerate() {
                pos.insert(n.id.as_str(), i as f64);
            }
        }
    }
    let widest = layers.iter().map(Vec::len).max().unwrap_or(1) as i32;
    let width = PAD * 2 + widest * W + (widest - 1) * GAP_X;
    let height = PAD * 2 + layers_n as i32 * H + (layers_n as i32 - 1) * GAP_Y;
    let mut xy: HashMap<&str, (i32, i32)> = HashMap::new();
    for (li, layer) in layers.iter().enumerate() {
        let row_width = layer.len() as i32 * W + (layer.len() as i32 - 1) * GAP_X;
        let x0 = (width - row_width) / 2;
        for (i, n) in layer.iter().enumerate() {
            xy.insert(
                n.id.as_str(),
                (x0 + i as i32 * (W + GAP_X), PAD + li as i32 * (H + GAP_Y)),
            );
        }
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"dag\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" aria-labelledby=\"dag-title\">\
         <title id=\"dag-title\">Family of {}</title>",
        escape(current)
    );
    for e in edges {
        let (Some(&(px, py)), Some(&(cx, cy))) =
            (xy.get(e.parent.as_str()), xy.get(e.child.as_str()))
        else {
            continue;
        };
        let (x1, y1, x2, y2) = (px + W / 2, py + H, cx + W / 2, cy);
        let mid = (y1 + y2) / 2;
        let dash = if e.verification == "verified" {
            ""
        } else {
            " stroke-dasharray=\"6 4\""
        };
        let _ = write!(
            svg,
            "<path d=\"M{x1},{y1} C{x1},{mid} {x2},{mid} {x2},{y2}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}>\
             <title>{} → {}: {} ({})</title></path>",
            colour(&e.relation),
            escape(&e.parent),
            escape(&e.child),
            escape(&e.relation),
            escape(&e.verification)
        );
    }
    for n in nodes {
        let Some(&(x, y)) = xy.get(n.id.as_str()) else {
            continue;
        };
        let me = n.id == current;
        let _ = write!(
            svg,
            "<a href=\"/{}\"><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"6\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#1c2024\">{}</text><title>{} ({})</title></a>",
            escape(&n.id),
            if me { "#eef7f1" } else { "#ffffff" },
            colour(&n.relation),
            if me { 3 } else { 1 },
            x + W / 2,
            y + H / 2 + 5,
            escape(&short(&n.id)),
            escape(&n.id),
            escape(&n.relation)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, depth: i32) -> DagNode {
        DagNode {
            id: id.into(),
            depth,
            relation: "finetune".into(),
        }
    }

    fn edge(p: &str, c: &str, v: &str) -> DagEdge {
        DagEdge {
            parent: p.into(),
            child: c.into(),
            relation: "finetune".into(),
            verification: v.into(),
        }
    }

    #[test]
    fn layers_by_generation_and_escapes_names() {
        let nodes = vec![node("a/base", 1), node("a/<x>", 0), node("a/kid", -1)];
        let edges = vec![
            edge("a/base", "a/<x>", "verified"),
            edge("a/<x>", "a/kid", "unverified"),
        ];
        let svg = render(&nodes, &edges, "a/<x>");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<x>") && svg.contains("a/&lt;x&gt;"));
        assert_eq!(svg.matches("<path").count(), 2);
        assert_eq!(
            svg.matches("stroke-dasharray").count(),
            1,
            "only the unverified edge is dashed"
        );
        // The base sits above the model, which sits above its child.
        let y_of = |id: &str| {
            let at = svg.find(&format!("href=\"/{id}\"")).unwrap();
            let rest = &svg[at..];
            let y = rest.split("y=\"").nth(1).unwrap();
            y[..y.find('"').unwrap()].parse::<i32>().unwrap()
        };
        assert!(y_of("a/base") < y_of("a/kid"));
    }
}
