//! Search benchmark: N synthetic model cards (domains, languages, licenses, sizes, popularity)
//! loaded into a PostgreSQL database, indexed with `grove reindex` (indexing rate), then a fixed
//! mix of queries (free text, facet filters, sorts, prefix suggestions) from many concurrent
//! clients against the real `grove serve` over HTTP; and the same queries answered by PostgreSQL
//! full-text search (tsvector + GIN, ts_rank) on the same corpus, in the same run.
//!
//!   search_bench --grove BIN --database-url postgres://… [--cards N] [--clients C] [--queries Q]
//!
//! It prints figures and ratios; it is a benchmark, not a test.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use diesel::prelude::*;
use diesel::sql_types::Text;
use grove_tests::bench::{Conn, Rng, insert_rows, ms, percentile, start_server};

const DOMAINS: &[(&str, &[&str])] = &[
    (
        "legal",
        &[
            "contract",
            "statute",
            "court",
            "ruling",
            "compliance",
            "litigation",
            "clause",
        ],
    ),
    (
        "medical",
        &[
            "radiology",
            "clinical",
            "diagnosis",
            "patient",
            "oncology",
            "cardiology",
            "ehr",
        ],
    ),
    (
        "finance",
        &[
            "earnings",
            "market",
            "portfolio",
            "risk",
            "trading",
            "credit",
            "audit",
        ],
    ),
    (
        "code",
        &[
            "python",
            "rust",
            "javascript",
            "completion",
            "refactoring",
            "sql",
            "compiler",
        ],
    ),
    (
        "chemistry",
        &[
            "molecule",
            "reaction",
            "smiles",
            "catalyst",
            "synthesis",
            "polymer",
            "spectra",
        ],
    ),
    (
        "biology",
        &[
            "protein", "genome", "folding", "enzyme", "cell", "sequence", "antibody",
        ],
    ),
    (
        "climate",
        &[
            "emissions",
            "weather",
            "carbon",
            "forecast",
            "satellite",
            "drought",
            "energy",
        ],
    ),
    (
        "education",
        &[
            "tutoring",
            "homework",
            "curriculum",
            "exam",
            "lesson",
            "student",
            "grading",
        ],
    ),
    (
        "support",
        &[
            "ticket",
            "faq",
            "chatbot",
            "escalation",
            "refund",
            "helpdesk",
            "intent",
        ],
    ),
    (
        "poetry",
        &[
            "poem", "verse", "rhyme", "lyrics", "sonnet", "haiku", "meter",
        ],
    ),
];
const LANGS: &[(&str, &str)] = &[
    ("en", "English"),
    ("de", "German"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("zh", "Chinese"),
    ("ja", "Japanese"),
    ("pt", "Portuguese"),
    ("ar", "Arabic"),
    ("hi", "Hindi"),
    ("sw", "Swahili"),
];
const LICENSES: &[&str] = &[
    "mit",
    "apache-2.0",
    "cc-by-4.0",
    "llama3",
    "openrail",
    "gpl-3.0",
];
const FAMILIES: &[&str] = &[
    "Llama", "Mistral", "Qwen2", "Gemma", "Phi", "Bert", "T5", "Falcon",
];
const SIZES: &[&str] = &["125M", "350M", "1B", "3B", "7B", "13B", "70B"];
const COMMON: &[&str] = &[
    "model",
    "fine-tuned",
    "dataset",
    "evaluation",
    "benchmark",
    "training",
    "inference",
    "tokens",
    "instruction",
    "chat",
    "base",
    "quantized",
    "adapter",
    "accuracy",
    "research",
    "production",
];

struct Args {
    grove: String,
    database_url: String,
    cards: usize,
    clients: usize,
    queries: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        grove: String::new(),
        database_url: String::new(),
        cards: 100_000,
        clients: 16,
        queries: 20_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--grove" => a.grove = v,
            "--database-url" => a.database_url = v,
            "--cards" => a.cards = v.parse()?,
            "--clients" => a.clients = v.parse()?,
            "--queries" => a.queries = v.parse()?,
            _ => bail!("unknown argument {k}"),
        }
    }
    if a.grove.is_empty() || !a.database_url.starts_with("postgres") {
        bail!(
            "usage: search_bench --grove BIN --database-url postgres://… [--cards N] [--clients C] [--queries Q]"
        );
    }
    Ok(a)
}

/// One card: (name, license, lang, pipeline, body, downloads).
fn card(i: usize) -> (String, &'static str, &'static str, String, u64) {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    r.next_u64();
    let (domain, words) = DOMAINS[r.below(DOMAINS.len())];
    let (lang, lang_name) = LANGS[r.below(LANGS.len())];
    let license = LICENSES[r.below(LICENSES.len())];
    let family = FAMILIES[r.below(FAMILIES.len())];
    let size = SIZES[r.below(SIZES.len())];
    let name = format!("{family}-{size}-{domain}-{lang}-{i}");
    let mut body = format!(
        "# {family} {size} {domain}\n\nA {family} model fine-tuned for {domain} in {lang_name}. "
    );
    for _ in 0..40 {
        let w = if r.chance(0.5) {
            words[r.below(words.len())]
        } else {
            COMMON[r.below(COMMON.len())]
        };
        body.push_str(w);
        body.push(' ');
    }
    // Popularity is heavy-tailed.
    let downloads = (1_000_000.0 / (1.0 + r.below(100_000) as f64)).round() as u64;
    let _ = license;
    (name, license, lang, body, downloads)
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn load(conn: &mut Conn, n: usize) -> anyhow::Result<()> {
    conn.exec("BEGIN;")?;
    let owners = 200;
    insert_rows(
        conn,
        "INSERT INTO accounts (id, kind, name, name_key, fullname, is_admin, created_at) OVERRIDING SYSTEM VALUE",
        (1..=owners)
            .map(|o| format!("({o}, 'org', 'org{o}', 'org{o}', '', FALSE, '2026-01-01 00:00:00')")),
        1000,
    )?;
    insert_rows(
        conn,
        "INSERT INTO repos (id, kind, owner_id, name, name_key, private, default_branch, downloads, likes, card_data, card_body, created_at, updated_at) OVERRIDING SYSTEM VALUE",
        (0..n).map(|i| {
            let (name, license, lang, body, downloads) = card(i);
            let meta = serde_json::json!({"license": license, "language": [lang], "pipeline_tag": "text-generation", "tags": ["bench"]});
            let day = 1 + i % 28;
            format!(
                "({}, 'model', {}, {}, {}, FALSE, 'main', {downloads}, {}, {}, {}, '2026-01-{day:02} 00:00:00', '2026-02-{day:02} 00:00:00')",
                i + 1,
                1 + i % owners,
                sql_str(&name),
                sql_str(&name.to_lowercase()),
                downloads / 100,
                sql_str(&meta.to_string()),
                sql_str(&body),
            )
        }),
        500,
    )?;
    conn.exec("COMMIT;")?;
    Ok(())
}

/// The fixed query mix: (grove path, PostgreSQL query, its text argument).
fn queries(count: usize) -> Vec<(String, String, String)> {
    let mut r = Rng(7);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let (domain, words) = DOMAINS[r.below(DOMAINS.len())];
        let w1 = words[r.below(words.len())];
        let w2 = words[r.below(words.len())];
        let (lang, lang_name) = LANGS[r.below(LANGS.len())];
        let license = LICENSES[r.below(LICENSES.len())];
        let rank = "ORDER BY ts_rank(tsv, plainto_tsquery('english', $1)) DESC, id DESC LIMIT 20";
        let by_downloads = "ORDER BY downloads DESC, id DESC LIMIT 20";
        out.push(match r.below(10) {
            // Free text: one to three words.
            0..=3 => {
                let text = match r.below(3) {
                    0 => w1.to_string(),
                    1 => format!("{w1} {domain}"),
                    _ => format!("{w1} {w2} {}", lang_name.to_lowercase()),
                };
                (
                    format!("/api/models?search={}&limit=20", text.replace(' ', "+")),
                    format!("SELECT id FROM bench_fts WHERE tsv @@ plainto_tsquery('english', $1) {rank}"),
                    text,
                )
            }
            // Free text with facet filters.
            4..=5 => (
                format!("/api/models?search={w1}&filter=license:{license}&filter=language:{lang}&limit=20"),
                format!("SELECT id FROM bench_fts WHERE tsv @@ plainto_tsquery('english', $1) AND license = '{license}' AND lang = '{lang}' {rank}"),
                w1.to_string(),
            ),
            // Filters sorted by downloads, no text.
            6..=7 => (
                format!("/api/models?filter=license:{license}&filter=language:{lang}&sort=downloads&limit=20"),
                format!("SELECT id FROM bench_fts WHERE license = '{license}' AND lang = '{lang}' AND $1 = $1 {by_downloads}"),
                String::new(),
            ),
            // Text sorted by downloads.
            8 => (
                format!("/api/models?search={w1}&sort=downloads&limit=20"),
                format!("SELECT id FROM bench_fts WHERE tsv @@ plainto_tsquery('english', $1) {by_downloads}"),
                w1.to_string(),
            ),
            // Search-box prefix.
            _ => {
                let prefix = &w1[..w1.len().min(3)];
                (
                    format!("/api/search/suggest?q={prefix}"),
                    "SELECT id FROM bench_fts WHERE tsv @@ to_tsquery('simple', $1 || ':*') ORDER BY downloads DESC, id DESC LIMIT 8".to_string(),
                    prefix.to_string(),
                )
            }
        });
    }
    out
}

/// Runs `work(i)` for every query index from `clients` threads; returns (latencies ms, seconds).
fn drive(
    clients: usize,
    total: usize,
    work: impl Fn(usize, usize) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<(Vec<f64>, f64)> {
    let next = AtomicUsize::new(0);
    let lat = Mutex::new(Vec::with_capacity(total));
    let started = Instant::now();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for c in 0..clients {
            let (next, lat, work) = (&next, &lat, &work);
            handles.push(s.spawn(move || -> anyhow::Result<()> {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let t = Instant::now();
                    work(c, i)?;
                    mine.push(ms(t.elapsed()));
                }
                lat.lock().unwrap().extend(mine);
                Ok(())
            }));
        }
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("client thread panicked"))??;
        }
        Ok(())
    })?;
    Ok((lat.into_inner().unwrap(), started.elapsed().as_secs_f64()))
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let n = args.cards;
    let status = std::process::Command::new(&args.grove)
        .args(["migrate", "--database-url", &args.database_url])
        .status()?;
    if !status.success() {
        bail!("grove migrate failed");
    }
    let mut conn = Conn::open(&args.database_url)?;
    let t = Instant::now();
    load(&mut conn, n)?;
    println!(
        "[{n} cards] loaded into PostgreSQL in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Indexing: `grove reindex` reads the repos from the database and builds the index.
    let data = tempfile::tempdir()?;
    let t = Instant::now();
    let out = std::process::Command::new(&args.grove)
        .args([
            "reindex",
            "--database-url",
            &args.database_url,
            "--data-dir",
        ])
        .arg(data.path())
        .output()?;
    if !out.status.success() {
        bail!(
            "grove reindex failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "[{n} cards] grove reindex: {} -> {:.0} cards/s (goal >= 2000)",
        String::from_utf8_lossy(&out.stdout).trim(),
        n as f64 / secs
    );

    // PostgreSQL full-text search over the same cards.
    let t = Instant::now();
    conn.exec(
        "DROP TABLE IF EXISTS bench_fts;
         CREATE TABLE bench_fts AS SELECT r.id, r.downloads,
             r.card_data::json->>'license' AS license, r.card_data::json->'language'->>0 AS lang,
             setweight(to_tsvector('english', regexp_replace(r.name, '[-_.]', ' ', 'g')), 'A') ||
             setweight(to_tsvector('english', coalesce(r.card_body, '')), 'C') AS tsv
           FROM repos r;
         CREATE INDEX bench_fts_tsv ON bench_fts USING GIN (tsv);
         CREATE INDEX bench_fts_facets ON bench_fts (license, lang, downloads);
         CREATE INDEX bench_fts_downloads ON bench_fts (downloads);
         ANALYZE bench_fts;",
    )?;
    println!(
        "[{n} cards] PostgreSQL tsvector + GIN built in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let (_server, base) = start_server(&args.grove, &args.database_url, data.path())?;
    let mix = queries(args.queries);
    let http = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    // Warm-up: one pass over the first 500 queries on each side.
    for (path, _, _) in mix.iter().take(500) {
        http.get(format!("{base}{path}"))
            .send()?
            .error_for_status()?;
    }
    let (mut lat, secs) = drive(args.clients, mix.len(), |_, i| {
        let r = http.get(format!("{base}{}", mix[i].0)).send()?;
        if !r.status().is_success() {
            bail!("{}: {}", mix[i].0, r.status());
        }
        r.bytes()?;
        Ok(())
    })?;
    let grove_qps = mix.len() as f64 / secs;
    let (g50, g99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
    // One client: the latency of a query without queueing behind the others.
    let single = mix.len().min(2000);
    let (mut lat1, _) = drive(1, single, |_, i| {
        http.get(format!("{base}{}", mix[i].0)).send()?.bytes()?;
        Ok(())
    })?;
    let (s50, s99) = (percentile(&mut lat1, 0.5), percentile(&mut lat1, 0.99));
    println!(
        "[{n} cards] grove over HTTP, 1 client, {single} queries: p50 {s50:.2} ms, p99 {s99:.2} ms"
    );
    println!(
        "[{n} cards] grove over HTTP, {} clients, {} queries: p50 {g50:.2} ms, p99 {g99:.2} ms, {grove_qps:.0} queries/s (goals p50 < 2 ms, p99 < 30 ms)",
        args.clients,
        mix.len()
    );

    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[allow(dead_code)]
        id: i64,
    }
    let conns: Vec<Mutex<PgConnection>> = (0..args.clients)
        .map(|_| PgConnection::establish(&args.database_url).map(Mutex::new))
        .collect::<Result<_, _>>()?;
    for (_, sql, text) in mix.iter().take(500) {
        let _: Vec<Id> = diesel::sql_query(sql)
            .bind::<Text, _>(text)
            .load(&mut *conns[0].lock().unwrap())?;
    }
    let (mut lat, secs) = drive(args.clients, mix.len(), |c, i| {
        let (_, sql, text) = &mix[i];
        let _: Vec<Id> = diesel::sql_query(sql)
            .bind::<Text, _>(text)
            .load(&mut *conns[c].lock().unwrap())?;
        Ok(())
    })?;
    let pg_qps = mix.len() as f64 / secs;
    let (p50, p99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
    let (mut lat1, _) = drive(1, single, |_, i| {
        let (_, sql, text) = &mix[i];
        let _: Vec<Id> = diesel::sql_query(sql)
            .bind::<Text, _>(text)
            .load(&mut *conns[0].lock().unwrap())?;
        Ok(())
    })?;
    let (q50, q99) = (percentile(&mut lat1, 0.5), percentile(&mut lat1, 0.99));
    println!(
        "[{n} cards] PostgreSQL full-text, 1 client, {single} queries: p50 {q50:.2} ms, p99 {q99:.2} ms"
    );
    println!(
        "[{n} cards] PostgreSQL full-text (direct SQL, no HTTP), {} clients: p50 {p50:.2} ms, p99 {p99:.2} ms, {pg_qps:.0} queries/s",
        args.clients
    );
    println!(
        "[{n} cards] throughput ratio grove/PostgreSQL: {:.1}x (goal >= 5x)",
        grove_qps / pg_qps
    );
    Ok(())
}
