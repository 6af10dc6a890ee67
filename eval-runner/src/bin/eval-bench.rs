//! `eval-bench`: scoring throughput of the worker's engine on CPU, in tokens per second, with a
//! reference measured in the same run: candle's own matrix multiply on this machine. The ratio
//! says how much of the machine's matmul throughput the scoring path turns into model FLOPs
//! (batching, padding, attention and the output head are the difference).
//!
//! Usage: eval-bench [--hidden N] [--layers N] [--heads N] [--kv-heads N] [--intermediate N]
//!                   [--seconds S] [--batch-tokens N]

use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor};
use grove_eval_runner::engine::evaluate::evaluate;
use grove_eval_runner::engine::load::load_model;
use grove_eval_runner::requests::{Prepared, prepare, read_jsonl};
use grove_eval_runner::spec::{TaskSpec, parse_task};
use grove_eval_runner::tiny::{self, TinyShape};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn task(name: &str) -> (TaskSpec, Prepared) {
    let (_, files) = grove_eval_runner::builtin::TASKS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("built-in task");
    let get = |f: &str| {
        files
            .iter()
            .find(|(n, _)| *n == f)
            .map(|(_, c)| *c)
            .expect("file")
    };
    let spec = parse_task(get("task.yaml")).expect("spec");
    let docs = read_jsonl(get(&spec.data).as_bytes(), &spec.data).expect("docs");
    let prepared = prepare(&spec, &docs, None).expect("prepare");
    (spec, prepared)
}

/// FLOP/s of candle's f32 matmul on this machine for a (m x k) by (k x n) product.
fn matmul_flops(m: usize, k: usize, n: usize, budget: Duration) -> anyhow::Result<f64> {
    let a = Tensor::randn(0f32, 1.0, (m, k), &Device::Cpu)?;
    let b = Tensor::randn(0f32, 1.0, (k, n), &Device::Cpu)?;
    a.matmul(&b)?;
    let start = Instant::now();
    let mut runs = 0u64;
    while start.elapsed() < budget {
        a.matmul(&b)?;
        runs += 1;
    }
    Ok(2.0 * (m * k * n) as f64 * runs as f64 / start.elapsed().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let shape = TinyShape {
        hidden: arg(&args, "--hidden", 512),
        layers: arg(&args, "--layers", 8),
        heads: arg(&args, "--heads", 8),
        kv_heads: arg(&args, "--kv-heads", 4),
        intermediate: arg(&args, "--intermediate", 1376),
        max_positions: 1024,
    };
    let seconds = arg(&args, "--seconds", 20) as u64;
    let batch_tokens = arg(&args, "--batch-tokens", 4096);
    let dir = tempfile::tempdir()?;
    let weights = tiny::base_weights(&shape, 7);
    let params: usize = weights
        .values()
        .map(|(s, _)| s.iter().product::<usize>())
        .sum();
    tiny::write_model(dir.path(), &shape, &weights, "# bench\n")?;
    let model = load_model(
        dir.path(),
        &["model.safetensors".into()],
        true,
        DType::F32,
        &Device::Cpu,
    )?;
    println!(
        "model: llama, hidden {} layers {} heads {}/{} intermediate {} vocab {}: {:.1} M parameters",
        shape.hidden,
        shape.layers,
        shape.heads,
        shape.kv_heads,
        shape.intermediate,
        tiny::vocab_size(),
        params as f64 / 1e6
    );
    // Weights touched per token, times two FLOPs; the embedding is a lookup, not a matmul.
    let embed = tiny::vocab_size() * shape.hidden;
    let flops_per_token = 2.0 * (params - embed) as f64;
    for name in ["grove-arith", "grove-prose"] {
        let (spec, prepared) = task(name);
        evaluate(&model, &spec, &prepared, batch_tokens, |_, _| Ok(()))?;
        let start = Instant::now();
        let (mut tokens, mut runs) = (0usize, 0usize);
        while start.elapsed() < Duration::from_secs(seconds) {
            tokens += evaluate(&model, &spec, &prepared, batch_tokens, |_, _| Ok(()))?.tokens;
            runs += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        let tps = tokens as f64 / secs;
        println!(
            "{name}: {runs} runs, {tokens} tokens in {secs:.1} s: {tps:.0} tokens/s, {:.2} GFLOP/s of model work",
            tps * flops_per_token / 1e9
        );
    }
    let reference = matmul_flops(
        512,
        shape.hidden,
        shape.intermediate,
        Duration::from_secs(5),
    )?;
    println!(
        "reference: candle f32 matmul (512 x {} x {}): {:.2} GFLOP/s",
        shape.hidden,
        shape.intermediate,
        reference / 1e9
    );
    let (spec, prepared) = task("grove-prose");
    let start = Instant::now();
    let tokens = evaluate(&model, &spec, &prepared, batch_tokens, |_, _| Ok(()))?.tokens;
    let achieved = tokens as f64 / start.elapsed().as_secs_f64() * flops_per_token;
    println!(
        "ratio: scoring achieves {:.2} of the reference matmul throughput",
        achieved / reference
    );
    Ok(())
}
