//! Lineage query benchmark on a synthetic DAG shaped like a real hub (a few bases with hundreds
//! of thousands of descendants, long fine-tune chains, merges).
//!
//!   lineage_bench --grove BIN --database-url URL [--nodes N] [--samples S]
//!
//! It migrates the database with `grove migrate`, bulk-loads repos, current edges and the
//! closure/count tables the hub maintains (computed here the same way: shortest depth per
//! ancestor, public counts per relation), starts `grove serve` on it, and measures through HTTP:
//! ancestors answers for sampled models, the first page of 100 descendants of the largest base
//! (with its counts), next to the raw recursive query over the edges on the same database
//! (ancestors per sampled model; all descendants and their count for the largest base).
//! It prints figures and ratios; it is a benchmark, not a test.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use grove_tests::bench::{Conn, Rng, insert_rows, ms, percentile, start_server};

struct Args {
    grove: String,
    database_url: String,
    nodes: usize,
    samples: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        grove: String::new(),
        database_url: String::new(),
        nodes: 1_000_000,
        samples: 1000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--grove" => a.grove = v,
            "--database-url" => a.database_url = v,
            "--nodes" => a.nodes = v.parse()?,
            "--samples" => a.samples = v.parse()?,
            _ => bail!("unknown argument {k}"),
        }
    }
    if a.grove.is_empty() || a.database_url.is_empty() {
        bail!("usage: lineage_bench --grove BIN --database-url URL [--nodes N] [--samples S]");
    }
    Ok(a)
}

/// Node i's parents (indices < i) and relation. Node 0..BASES are roots; base 0 is the largest.
struct Dag {
    parents: Vec<Vec<u32>>,
    relation: Vec<&'static str>,
}

const BASES: usize = 5;

fn generate(n: usize) -> Dag {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parents: Vec<Vec<u32>> = vec![Vec::new(); BASES];
    let mut relation: Vec<&'static str> = vec!["none"; BASES];
    let mut family: Vec<u32> = (0..BASES as u32).collect(); // root of each node
    while parents.len() < n {
        let i = parents.len();
        // Long fine-tune chains: now and then 200 models, each fine-tuning the previous one.
        if rng.chance(0.0001) && i + 200 < n {
            let mut prev = rng.below(i) as u32;
            for _ in 0..200 {
                parents.push(vec![prev]);
                relation.push("finetune");
                family.push(family[prev as usize]);
                prev = (parents.len() - 1) as u32;
            }
            continue;
        }
        let base = if rng.chance(0.6) {
            0
        } else {
            1 + rng.below(BASES - 1)
        };
        let pick_in_family = |rng: &mut Rng| -> u32 {
            // Half the models derive from a base directly, half from an earlier model of a
            // random family member (found by probing: cheap and unbiased enough here).
            for _ in 0..8 {
                let c = rng.below(i) as u32;
                if family[c as usize] == base as u32 {
                    return c;
                }
            }
            base as u32
        };
        let p = if rng.chance(0.5) {
            base as u32
        } else {
            pick_in_family(&mut rng)
        };
        if rng.chance(0.02) {
            let q = pick_in_family(&mut rng);
            if q != p {
                parents.push(vec![p, q]);
                relation.push("merge");
                family.push(base as u32);
                continue;
            }
        }
        let r = match rng.below(10) {
            0..=5 => "finetune",
            6..=7 => "quantized",
            _ => "adapter",
        };
        parents.push(vec![p]);
        relation.push(r);
        family.push(base as u32);
    }
    Dag { parents, relation }
}

fn load(conn: &mut Conn, dag: &Dag) -> anyhow::Result<(usize, Duration)> {
    let started = Instant::now();
    let n = dag.parents.len();
    let overriding = if conn.is_pg() {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    if !conn.is_pg() {
        conn.exec("PRAGMA synchronous = OFF; PRAGMA journal_mode = WAL;")?;
    }
    conn.exec("BEGIN;")?;
    conn.exec(&format!(
        "INSERT INTO accounts (id, kind, name, name_key, fullname, is_admin, created_at){overriding} \
         VALUES (1, 'user', 'bench', 'bench', '', FALSE, '2026-11-30 00:00:00');"
    ))?;
    let now = "'2026-11-30 00:00:00'";
    insert_rows(
        conn,
        &format!(
            "INSERT INTO repos (id, kind, owner_id, name, name_key, private, default_branch, downloads, likes, head_commit, created_at, updated_at){overriding}"
        ),
        (0..n).map(|i| {
            let id = i + 1;
            format!(
                "({id}, 'model', 1, 'm{i}', 'm{i}', FALSE, 'main', 0, 0, '{:040x}', {now}, {now})",
                id
            )
        }),
        1000,
    )?;
    insert_rows(
        conn,
        "INSERT INTO lineage_edges (child_repo_id, child_commit, parent_repo_id, parent_name, parent_commit, relation, source, relation_stated, position, merge_base, verification, evidence, is_current, created_at)",
        dag.parents.iter().enumerate().flat_map(|(i, ps)| {
            let rel = dag.relation[i];
            ps.iter().enumerate().map(move |(pos, p)| {
                format!(
                    "({}, '{:040x}', {}, 'bench/m{p}', '{:040x}', '{rel}', 'card', FALSE, {}, FALSE, 'unverified', '{{}}', TRUE, {now})",
                    i + 1, i + 1, p + 1, p + 1, pos + 1
                )
            })
        }),
        1000,
    )?;
    // The closure, computed in creation order (parents first), shortest depth per ancestor.
    let mut anc: Vec<Vec<(u32, u16)>> = Vec::with_capacity(n);
    let mut counts: HashMap<(u32, &str), (i64, i64)> = HashMap::new();
    let mut rows = 0usize;
    let mut pending: Vec<String> = Vec::new();
    for (i, ps) in dag.parents.iter().enumerate() {
        let mut m: HashMap<u32, u16> = HashMap::new();
        for p in ps {
            let e = m.entry(*p).or_insert(1);
            *e = (*e).min(1);
            for (a, d) in &anc[*p as usize] {
                let e = m.entry(*a).or_insert(d + 1);
                *e = (*e).min(d + 1);
            }
        }
        let mut v: Vec<(u32, u16)> = m.into_iter().collect();
        v.sort_unstable();
        let rel = dag.relation[i];
        for (a, d) in &v {
            let c = counts.entry((*a, rel)).or_default();
            c.1 += 1;
            if *d == 1 {
                c.0 += 1;
            }
            pending.push(format!("({}, {}, {d}, '{rel}', FALSE)", a + 1, i + 1));
            rows += 1;
            if pending.len() == 2000 {
                conn.exec(&format!(
                    "INSERT INTO lineage_closure (ancestor_id, descendant_id, depth, relation, private) VALUES {};",
                    pending.join(",")
                ))?;
                pending.clear();
            }
        }
        anc.push(v);
    }
    if !pending.is_empty() {
        conn.exec(&format!(
            "INSERT INTO lineage_closure (ancestor_id, descendant_id, depth, relation, private) VALUES {};",
            pending.join(",")
        ))?;
    }
    insert_rows(
        conn,
        "INSERT INTO lineage_counts (repo_id, relation, children, descendants)",
        counts
            .into_iter()
            .map(|((a, rel), (c, d))| format!("({}, '{rel}', {c}, {d})", a + 1)),
        1000,
    )?;
    conn.exec("COMMIT;")?;
    conn.exec("ANALYZE;")?;
    Ok((rows, started.elapsed()))
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let status = Command::new(&args.grove)
        .args(["migrate", "--database-url", &args.database_url])
        .status()?;
    if !status.success() {
        bail!("grove migrate failed");
    }
    let mut conn = Conn::open(&args.database_url)?;
    let backend = if conn.is_pg() { "postgres" } else { "sqlite" };
    let t = Instant::now();
    let dag = generate(args.nodes);
    let edges: usize = dag.parents.iter().map(Vec::len).sum();
    println!(
        "[{backend}] generated {} models, {edges} edges in {:.1} s",
        args.nodes,
        t.elapsed().as_secs_f64()
    );
    let (closure_rows, took) = load(&mut conn, &dag)?;
    println!(
        "[{backend}] loaded repos, edges, {closure_rows} closure rows and counts in {:.1} s",
        took.as_secs_f64()
    );

    let largest = 1i64; // base 0
    let total_desc = conn.ids(&format!(
        "SELECT descendants AS v FROM lineage_counts WHERE repo_id = {largest} AND relation = 'finetune'"
    ))?;
    let data_dir = tempfile::tempdir()?;
    let (_server, base) = start_server(&args.grove, &args.database_url, data_dir.path())?;
    let http = reqwest::blocking::Client::new();
    let get = |path: &str| -> anyhow::Result<(Duration, serde_json::Value)> {
        let t = Instant::now();
        let r = http.get(format!("{base}{path}")).send()?;
        let status = r.status();
        let body: serde_json::Value = r.json()?;
        let took = t.elapsed();
        if !status.is_success() {
            bail!("{path}: {status} {body}");
        }
        Ok((took, body))
    };

    // Ancestors of sampled models: the deepest chain ends included.
    let mut rng = Rng(42);
    let mut sample: Vec<usize> = (0..args.samples)
        .map(|_| BASES + rng.below(args.nodes - BASES))
        .collect();
    let deepest = (0..args.nodes)
        .max_by_key(|i| depth_of(&dag, *i))
        .unwrap_or(0);
    sample.push(deepest);
    let raw_anc = |id: usize| {
        format!(
            "WITH RECURSIVE anc(id, depth) AS (\
               SELECT parent_repo_id, 1 FROM lineage_edges WHERE child_repo_id = {id} AND is_current \
               UNION \
               SELECT e.parent_repo_id, a.depth + 1 FROM lineage_edges e JOIN anc a ON e.child_repo_id = a.id WHERE e.is_current) \
             SELECT id AS v FROM anc GROUP BY id ORDER BY MIN(depth)",
        )
    };
    // Warm both paths.
    for i in sample.iter().take(50) {
        conn.ids(&raw_anc(i + 1))?;
        get(&format!("/api/models/bench/m{i}/lineage/ancestors"))?;
    }
    let (mut raw_t, mut api_t) = (Vec::new(), Vec::new());
    let mut checked = 0;
    for i in &sample {
        let t = Instant::now();
        let ids = conn.ids(&raw_anc(i + 1))?;
        raw_t.push(ms(t.elapsed()));
        let (took, body) = get(&format!("/api/models/bench/m{i}/lineage/ancestors"))?;
        api_t.push(ms(took));
        let nodes = body["nodes"].as_array().map_or(0, Vec::len);
        if nodes != ids.len() {
            bail!(
                "ancestors of m{i}: api {nodes}, recursive query {}",
                ids.len()
            );
        }
        checked += 1;
    }
    let (r50, r99) = (percentile(&mut raw_t, 0.5), percentile(&mut raw_t, 0.99));
    let (a50, a99) = (percentile(&mut api_t, 0.5), percentile(&mut api_t, 0.99));
    println!(
        "[{backend}] ancestors, {checked} models (answers equal): raw recursive query p50 {r50:.3} ms p99 {r99:.3} ms | grove API (HTTP, JSON, edges) p50 {a50:.3} ms p99 {a99:.3} ms | ratio p50 {:.1}x p99 {:.1}x (goal <= 10x)",
        a50 / r50,
        a99 / r99
    );

    // First page of descendants of the largest base, with counts.
    let mut page_t = Vec::new();
    let mut counted = 0i64;
    for _ in 0..200 {
        let (took, body) = get("/api/models/bench/m0/lineage/descendants?limit=100")?;
        page_t.push(ms(took));
        counted = body["counts"]["descendantsTotal"].as_i64().unwrap_or(0);
        if body["items"].as_array().map_or(0, Vec::len) != 100 {
            bail!("first page did not hold 100 items");
        }
    }
    let (p50, p99) = (percentile(&mut page_t, 0.5), percentile(&mut page_t, 0.99));
    let raw_desc = format!(
        "WITH RECURSIVE d(id) AS (SELECT child_repo_id FROM lineage_edges WHERE parent_repo_id = {largest} AND is_current \
         UNION SELECT e.child_repo_id FROM lineage_edges e JOIN d ON e.parent_repo_id = d.id WHERE e.is_current) \
         SELECT COUNT(*) AS v FROM d"
    );
    // The raw traversal of every descendant is the slow reference: run once, bounded.
    if conn.is_pg() {
        conn.exec("SET statement_timeout = '120s'")?;
    }
    let t = Instant::now();
    let raw = conn.ids(&raw_desc);
    let f50 = ms(t.elapsed());
    let raw_count = match raw {
        Ok(v) => v[0],
        Err(e) => {
            println!(
                "[{backend}] raw recursive traversal of the largest base did not finish: {e} (after {f50:.0} ms)"
            );
            counted
        }
    };
    if raw_count != counted {
        bail!("descendant count: api {counted}, recursive query {raw_count}");
    }
    println!(
        "[{backend}] largest base: {counted} descendants ({} fine-tunes among them); first page of 100 with counts via API p50 {p50:.2} ms p99 {p99:.2} ms (goal < 75 ms) | raw recursive traversal + count of all descendants {f50:.0} ms",
        total_desc.first().copied().unwrap_or(0)
    );
    Ok(())
}

fn depth_of(dag: &Dag, mut i: usize) -> usize {
    let mut d = 0;
    while let Some(p) = dag.parents[i].first() {
        i = *p as usize;
        d += 1;
    }
    d
}
