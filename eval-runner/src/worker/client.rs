//! The hub's worker API over HTTP (blocking: the worker is a plain CPU-bound process).

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use sha2::{Digest, Sha256};

use crate::protocol::{
    ClaimRequest, ClaimedJob, FailurePost, Heartbeat, InputFile, ResultPost, Source,
};

/// Why talking to the hub about a job failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// 409: the lease is gone (expired, re-claimed or cancelled); stop working on the job.
    #[error("lease lost: {0}")]
    LeaseLost(String),
    #[error("{0}")]
    Other(#[from] anyhow::Error),
}

#[derive(Clone)]
pub struct HubClient {
    base: String,
    token: String,
    http: Client,
}

fn error_message(res: Response) -> String {
    let status = res.status();
    let body = res.text().unwrap_or_default();
    let msg = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or(body);
    format!("{status}: {msg}")
}

fn check(res: Response) -> Result<Response, HubError> {
    match res.status() {
        s if s.is_success() => Ok(res),
        StatusCode::CONFLICT => Err(HubError::LeaseLost(error_message(res))),
        _ => Err(HubError::Other(anyhow::anyhow!(error_message(res)))),
    }
}

impl HubClient {
    pub fn new(base: &str, token: &str) -> anyhow::Result<HubClient> {
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(600))
            .build()?;
        Ok(HubClient {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn claim(&self, device: &str) -> Result<Option<ClaimedJob>, HubError> {
        let res = self
            .http
            .post(self.url("/api/evals/worker/claim"))
            .bearer_auth(&self.token)
            .json(&ClaimRequest {
                device: device.into(),
            })
            .send()
            .map_err(anyhow::Error::from)?;
        let res = check(res)?;
        if res.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        Ok(Some(res.json().map_err(anyhow::Error::from)?))
    }

    pub fn heartbeat(&self, job: i64, hb: &Heartbeat) -> Result<(), HubError> {
        let res = self
            .http
            .post(self.url(&format!("/api/evals/worker/jobs/{job}/heartbeat")))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(30))
            .json(hb)
            .send()
            .map_err(anyhow::Error::from)?;
        check(res).map(|_| ())
    }

    /// Streams one input file to `dest`, checking its size and sha256 on the way; a mismatch
    /// leaves nothing at `dest`.
    pub fn download(
        &self,
        job: &ClaimedJob,
        file: &InputFile,
        dest: &Path,
    ) -> Result<(), HubError> {
        let source = match file.source {
            Source::Model => "model",
            Source::Task => "task",
        };
        let url = self.url(&format!(
            "/api/evals/worker/jobs/{}/files/{source}/{}?fence={}",
            job.id, file.path, job.fence
        ));
        let mut res = check(
            self.http
                .get(url)
                .bearer_auth(&self.token)
                .send()
                .map_err(anyhow::Error::from)?,
        )?;
        let tmp = dest.with_extension(format!("part-{}", std::process::id()));
        let result = (|| -> anyhow::Result<()> {
            let mut out = std::fs::File::create(&tmp)?;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = res.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n])?;
                size += n as u64;
            }
            out.sync_all()?;
            let got = hex::encode(hasher.finalize());
            anyhow::ensure!(
                size == file.size && got == file.sha256,
                "{} arrived with {size} bytes and sha256 {got}; the job pinned {} bytes and {}",
                file.path,
                file.size,
                file.sha256
            );
            std::fs::rename(&tmp, dest)?;
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(HubError::Other)
    }

    pub fn post_result(&self, job: i64, post: &ResultPost) -> Result<(), HubError> {
        let res = self
            .http
            .post(self.url(&format!("/api/evals/worker/jobs/{job}/result")))
            .bearer_auth(&self.token)
            .json(post)
            .send()
            .map_err(anyhow::Error::from)?;
        check(res).map(|_| ())
    }

    pub fn post_failure(&self, job: i64, post: &FailurePost) -> Result<(), HubError> {
        let res = self
            .http
            .post(self.url(&format!("/api/evals/worker/jobs/{job}/fail")))
            .bearer_auth(&self.token)
            .json(post)
            .send()
            .map_err(anyhow::Error::from)?;
        check(res).map(|_| ())
    }
}
