//! Shared pieces of the benchmark binaries (`lineage_bench`, `search_bench`): a seeded
//! generator, a connection to either database for bulk loads and raw queries, percentiles, and
//! a `grove serve` started on a prepared database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// A small deterministic generator (xorshift), so both databases get the same DAG.
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() % 1_000_000) as f64 / 1_000_000.0 < p
    }
}

pub enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl Conn {
    pub fn open(url: &str) -> anyhow::Result<Conn> {
        Ok(if url.starts_with("postgres") {
            Conn::Pg(PgConnection::establish(url)?)
        } else {
            let path = url.trim_start_matches("sqlite://");
            Conn::Sqlite(SqliteConnection::establish(path)?)
        })
    }
    pub fn exec(&mut self, sql: &str) -> anyhow::Result<()> {
        match self {
            Conn::Sqlite(c) => c.batch_execute(sql)?,
            Conn::Pg(c) => c.batch_execute(sql)?,
        }
        Ok(())
    }
    pub fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }
    /// Runs a query returning one BIGINT column; returns the rows.
    pub fn ids(&mut self, sql: &str) -> anyhow::Result<Vec<i64>> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            v: i64,
        }
        let rows: Vec<Row> = match self {
            Conn::Sqlite(c) => diesel::sql_query(sql).load(c)?,
            Conn::Pg(c) => diesel::sql_query(sql).load(c)?,
        };
        Ok(rows.into_iter().map(|r| r.v).collect())
    }
}

/// Inserts rows in multi-row statements of `batch` rows.
pub fn insert_rows(
    conn: &mut Conn,
    head: &str,
    rows: impl Iterator<Item = String>,
    batch: usize,
) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(batch);
    let flush = |conn: &mut Conn, buf: &mut Vec<String>| -> anyhow::Result<()> {
        if !buf.is_empty() {
            conn.exec(&format!("{head} VALUES {};", buf.join(",")))?;
            buf.clear();
        }
        Ok(())
    };
    for r in rows {
        buf.push(r);
        if buf.len() == batch {
            flush(conn, &mut buf)?;
        }
    }
    flush(conn, &mut buf)
}

pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start_server(
    grove: &str,
    url: &str,
    data_dir: &std::path::Path,
) -> anyhow::Result<(Server, String)> {
    let mut child = Command::new(grove)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--database-url")
        .arg(url)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let server = Server(child);
    for line in lines.by_ref() {
        let line = line?;
        if let Some(rest) = line.split("listening on ").nth(1) {
            let base = rest.trim().to_string();
            std::thread::spawn(move || for _ in lines {});
            return Ok((server, base));
        }
    }
    bail!("grove serve did not report its address")
}
