//! `grove-worker`: the eval worker binary, plus tools that write the built-in tasks and tiny
//! generated models for tests, benchmarks and demos.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use grove_eval_runner::tiny::{self, TinyShape};
use grove_eval_runner::worker::client::HubClient;
use grove_eval_runner::worker::run::{WorkerOptions, run};

#[derive(Parser, Debug)]
#[command(name = "grove-worker", version, about = "Grove eval worker")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Claim and run eval jobs from a hub.
    Run {
        /// The hub's base URL.
        #[arg(long, env = "GROVE_HUB_URL")]
        hub: String,
        /// This worker's token (`grove worker-token create NAME` or `POST /api/evals/workers`).
        #[arg(long, env = "GROVE_WORKER_TOKEN", hide_env_values = true)]
        token: String,
        /// Where downloaded files are cached (by sha256) between jobs.
        #[arg(long, env = "GROVE_WORKER_CACHE", default_value = "grove-worker-cache")]
        cache: PathBuf,
        /// Compute on the GPU (needs a build with the `cuda` feature).
        #[arg(long)]
        gpu: bool,
        /// The dtype of the forward pass.
        #[arg(long, value_parser = ["f32", "bf16", "f16"], default_value = "f32")]
        dtype: String,
        /// Most padded tokens per forward pass.
        #[arg(long, default_value_t = 4096)]
        batch_tokens: usize,
        /// Seconds between claims when the queue is empty.
        #[arg(long, default_value_t = 2.0)]
        poll_seconds: f64,
        /// Exit when the queue is empty instead of waiting for more jobs.
        #[arg(long)]
        once: bool,
        /// Milliseconds to sleep after each batch (simulates a slow device in tests and demos).
        #[arg(long, default_value_t = 0, hide = true)]
        throttle_ms: u64,
    },
    /// Write the built-in tasks (one folder per task dataset) under OUT.
    BuiltinTasks { out: PathBuf },
    /// Write a family of tiny llama models (base, fine-tunes, a merge) under OUT.
    TinyFamily {
        out: PathBuf,
        /// The namespace the cards name parents in (`{namespace}/tiny-base`).
        #[arg(long)]
        namespace: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 64)]
        hidden: usize,
        #[arg(long, default_value_t = 2)]
        layers: usize,
        #[arg(long, default_value_t = 4)]
        heads: usize,
        #[arg(long, default_value_t = 2)]
        kv_heads: usize,
        #[arg(long, default_value_t = 128)]
        intermediate: usize,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match real_main(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            hub,
            token,
            cache,
            gpu,
            dtype,
            batch_tokens,
            poll_seconds,
            once,
            throttle_ms,
        } => {
            let device = grove_eval_runner::engine::pick_device(gpu)?;
            let device_name = if gpu {
                "cuda:0".to_string()
            } else {
                "cpu".to_string()
            };
            let dtype = match dtype.as_str() {
                "bf16" => candle_core::DType::BF16,
                "f16" => candle_core::DType::F16,
                _ => candle_core::DType::F32,
            };
            std::fs::create_dir_all(&cache)?;
            let opts = WorkerOptions {
                cache_dir: cache,
                device,
                device_name,
                dtype,
                batch_tokens: batch_tokens.max(1),
                throttle: Duration::from_millis(throttle_ms),
            };
            let client = HubClient::new(&hub, &token)?;
            run(
                &client,
                &opts,
                Duration::from_secs_f64(poll_seconds.max(0.05)),
                once,
            )
        }
        Command::BuiltinTasks { out } => {
            for name in grove_eval_runner::builtin::write_all(&out)? {
                println!("{name}");
            }
            Ok(())
        }
        Command::TinyFamily {
            out,
            namespace,
            seed,
            hidden,
            layers,
            heads,
            kv_heads,
            intermediate,
        } => {
            anyhow::ensure!(
                heads > 0
                    && kv_heads > 0
                    && heads % kv_heads == 0
                    && hidden % heads == 0
                    && (hidden / heads) % 2 == 0,
                "heads must divide hidden into even head sizes and be a multiple of kv-heads"
            );
            let shape = TinyShape {
                hidden,
                layers,
                heads,
                kv_heads,
                intermediate,
                max_positions: 1024,
            };
            for name in tiny::write_family(&out, &namespace, &shape, seed)? {
                println!("{name}");
            }
            Ok(())
        }
    }
}
