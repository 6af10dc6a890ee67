//! Canonical tensor names, so a GGUF file, a packed quantization and a LoRA adapter can be
//! compared with the safetensors checkpoint they came from.
//!
//! GGUF renames llama-family tensors (`blk.3.attn_q.weight` is `model.layers.3.self_attn.q_proj.weight`);
//! packed quantizations (GPTQ, AWQ) store `q_proj.qweight`/`scales`/`qzeros` for `q_proj.weight`.
//! Shapes need no mapping here: the scanner already reports GGUF shapes in row-major order.

/// GGUF per-block tensor suffixes and their transformers names (llama, mistral, qwen2 families).
const GGUF_BLOCK: &[(&str, &str)] = &[
    ("attn_q", "self_attn.q_proj"),
    ("attn_k", "self_attn.k_proj"),
    ("attn_v", "self_attn.v_proj"),
    ("attn_output", "self_attn.o_proj"),
    ("attn_norm", "input_layernorm"),
    ("ffn_norm", "post_attention_layernorm"),
    ("ffn_gate", "mlp.gate_proj"),
    ("ffn_up", "mlp.up_proj"),
    ("ffn_down", "mlp.down_proj"),
];

/// Suffixes of packed quantized tensors that stand for the float `weight` they replace.
const PACKED_SUFFIXES: &[&str] = &[
    "qweight",
    "qzeros",
    "scales",
    "g_idx",
    "weight_scale",
    "SCB",
];

/// The transformers name of a tensor, whatever file format it came from.
pub fn canonical(name: &str) -> String {
    match name {
        "token_embd.weight" => return "model.embed_tokens.weight".into(),
        "output_norm.weight" => return "model.norm.weight".into(),
        "output.weight" => return "lm_head.weight".into(),
        _ => {}
    }
    if let Some(rest) = name.strip_prefix("blk.")
        && let Some((layer, tail)) = rest.split_once('.')
        && layer.bytes().all(|b| b.is_ascii_digit())
        && let Some((kind, param)) = tail.split_once('.')
        && let Some((_, hf)) = GGUF_BLOCK.iter().find(|(g, _)| *g == kind)
    {
        return format!("model.layers.{layer}.{hf}.{param}");
    }
    if let Some((stem, suffix)) = name.rsplit_once('.')
        && PACKED_SUFFIXES.contains(&suffix)
    {
        return format!("{stem}.weight");
    }
    name.to_string()
}

/// True for tensors whose stored shape is not the logical shape (packed quantizations).
pub fn is_packed(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, suffix)| PACKED_SUFFIXES.contains(&suffix))
}

/// Which half of a LoRA pair a tensor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoraPart {
    A,
    B,
}

/// For a PEFT LoRA tensor (`base_model.model.<module>.lora_A.weight`), the base weight it adapts
/// (`<module>.weight`) and which half it is.
pub fn lora_target(name: &str) -> Option<(String, LoraPart)> {
    let stripped = name.strip_prefix("base_model.model.").unwrap_or(name);
    for (marker, part) in [(".lora_A.", LoraPart::A), (".lora_B.", LoraPart::B)] {
        if let Some((module, _)) = stripped.split_once(marker) {
            return Some((format!("{module}.weight"), part));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gguf_names_map_to_transformers_names() {
        assert_eq!(
            canonical("blk.12.attn_q.weight"),
            "model.layers.12.self_attn.q_proj.weight"
        );
        assert_eq!(
            canonical("blk.0.ffn_down.weight"),
            "model.layers.0.mlp.down_proj.weight"
        );
        assert_eq!(canonical("token_embd.weight"), "model.embed_tokens.weight");
        assert_eq!(canonical("output.weight"), "lm_head.weight");
        assert_eq!(canonical("blk.x.attn_q.weight"), "blk.x.attn_q.weight");
        assert_eq!(
            canonical("model.layers.0.self_attn.q_proj.qweight"),
            "model.layers.0.self_attn.q_proj.weight"
        );
        assert_eq!(canonical("model.norm.weight"), "model.norm.weight");
    }

    #[test]
    fn lora_names_point_at_their_base_weight() {
        assert_eq!(
            lora_target("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"),
            Some(("model.layers.0.self_attn.q_proj.weight".into(), LoraPart::A))
        );
        assert_eq!(lora_target("model.norm.weight"), None);
    }
}
