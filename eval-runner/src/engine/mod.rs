//! The scoring engine: a candle decoder that keeps every position's hidden state, the model's
//! tokenizer, and log-likelihood requests built and scored as lm-evaluation-harness does.

pub mod decoder;
pub mod evaluate;
pub mod load;
pub mod loglik;
pub mod tokenizer;

/// The device the `cuda` feature and the machine allow.
pub fn pick_device(want_gpu: bool) -> anyhow::Result<candle_core::Device> {
    if want_gpu {
        #[cfg(feature = "cuda")]
        return Ok(candle_core::Device::new_cuda(0)?);
        #[cfg(not(feature = "cuda"))]
        anyhow::bail!("this worker was built without the `cuda` feature");
    }
    Ok(candle_core::Device::Cpu)
}
