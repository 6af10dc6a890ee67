"""Small real weight files for lineage tests, written from scratch: safetensors (F32/F16) and
GGUF v3 (F32 and Q8_0 tensors), shaped like a tiny llama so GGUF names map to transformers names.
Pure Python (struct + json): the test venv needs no numpy."""

from __future__ import annotations

import json
import random
import struct

HIDDEN = 64
INTER = 128
VOCAB = 256
LAYERS = 2


def llama_shapes() -> dict[str, list[int]]:
    shapes = {"model.embed_tokens.weight": [VOCAB, HIDDEN]}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            shapes[p + f"self_attn.{proj}.weight"] = [HIDDEN, HIDDEN]
        shapes[p + "mlp.gate_proj.weight"] = [INTER, HIDDEN]
        shapes[p + "mlp.up_proj.weight"] = [INTER, HIDDEN]
        shapes[p + "mlp.down_proj.weight"] = [HIDDEN, INTER]
        shapes[p + "input_layernorm.weight"] = [HIDDEN]
        shapes[p + "post_attention_layernorm.weight"] = [HIDDEN]
    shapes["model.norm.weight"] = [HIDDEN]
    shapes["lm_head.weight"] = [VOCAB, HIDDEN]
    return shapes


def numel(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


Model = dict[str, tuple[list[int], list[float]]]


def random_model(seed: int) -> Model:
    """Random normal weights (norms are ones, as at initialisation)."""
    rng = random.Random(seed)
    out: Model = {}
    for name, shape in llama_shapes().items():
        if "norm" in name:
            out[name] = (shape, [1.0] * numel(shape))
        else:
            out[name] = (shape, [rng.gauss(0.0, 0.02) for _ in range(numel(shape))])
    return out


def finetune(base: Model, seed: int, fraction: float = 0.5, scale: float = 0.05) -> tuple[Model, list[str]]:
    """Perturbs a fraction of the matrices slightly (relative change ~`scale`); the rest stay
    byte-identical. Returns the model and the names changed."""
    rng = random.Random(seed)
    names = [n for n in base if "norm" not in n]
    changed = sorted(rng.sample(names, max(1, int(len(names) * fraction))))
    out = dict(base)
    for n in changed:
        shape, values = base[n]
        out[n] = (shape, [v + rng.gauss(0.0, 0.02 * scale) for v in values])
    return out, changed


def linear_merge(a: Model, b: Model, wa: float = 0.5) -> Model:
    return {n: (a[n][0], [wa * x + (1 - wa) * y for x, y in zip(a[n][1], b[n][1])]) for n in a}


def parameter_count(model: Model) -> int:
    return sum(numel(s) for s, _ in model.values())


def safetensors_bytes(model: Model, metadata: dict[str, str] | None = None) -> bytes:
    header: dict = {}
    chunks = []
    offset = 0
    for name, (shape, values) in model.items():
        raw = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def lora_adapter(base: Model, rank: int, seed: int, targets=("q_proj", "v_proj")) -> bytes:
    rng = random.Random(seed)
    tensors: Model = {}
    for name, (shape, _) in base.items():
        if not any(f".{t}." in name for t in targets):
            continue
        module = name[: -len(".weight")]
        out_dim, in_dim = shape
        tensors[f"base_model.model.{module}.lora_A.weight"] = (
            [rank, in_dim],
            [rng.gauss(0, 0.01) for _ in range(rank * in_dim)],
        )
        tensors[f"base_model.model.{module}.lora_B.weight"] = ([out_dim, rank], [0.0] * (out_dim * rank))
    return safetensors_bytes(tensors)


# --- GGUF -----------------------------------------------------------------------------------------

GGUF_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
}


def gguf_name(hf: str) -> str:
    fixed = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    if hf in fixed:
        return fixed[hf]
    _, _, layer, rest = hf.split(".", 3)
    module, param = rest.rsplit(".", 1)
    return f"blk.{layer}.{GGUF_NAMES[module]}.{param}"


def _gguf_str(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def _gguf_kv(key: str, value) -> bytes:
    if isinstance(value, str):
        return _gguf_str(key) + struct.pack("<I", 8) + _gguf_str(value)
    if isinstance(value, bool):
        return _gguf_str(key) + struct.pack("<I?", 7, value)
    if isinstance(value, int):
        return _gguf_str(key) + struct.pack("<IQ", 10, value)
    if isinstance(value, list):  # array of strings
        body = struct.pack("<IQ", 8, len(value)) + b"".join(_gguf_str(v) for v in value)
        return _gguf_str(key) + struct.pack("<I", 9) + body
    raise TypeError(value)


def _q8_0(values: list[float]) -> bytes:
    out = bytearray()
    for i in range(0, len(values), 32):
        block = values[i : i + 32]
        amax = max(abs(v) for v in block)
        d = amax / 127 if amax else 0.0
        out += struct.pack("<e", d)
        out += struct.pack("<32b", *[0 if d == 0 else max(-127, min(127, round(v / d))) for v in block])
    return bytes(out)


def gguf_bytes(model: Model, metadata: dict, quantize: bool = True) -> bytes:
    """GGUF v3: matrices as Q8_0 (type 8) when `quantize`, vectors as F32 (type 0)."""
    infos = b""
    data = b""
    for hf, (shape, values) in model.items():
        if quantize and len(shape) == 2:
            raw, ggml_type = _q8_0(values), 8
        else:
            raw, ggml_type = struct.pack(f"<{len(values)}f", *values), 0
        pad = (32 - len(data) % 32) % 32
        data += b"\0" * pad
        ne = list(reversed(shape))
        infos += _gguf_str(gguf_name(hf)) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        infos += struct.pack("<IQ", ggml_type, len(data))
        data += raw
    kvs = b"".join(_gguf_kv(k, v) for k, v in metadata.items())
    head = b"GGUF" + struct.pack("<IQQ", 3, len(model), len(metadata)) + kvs + infos
    head += b"\0" * ((32 - len(head) % 32) % 32)
    return head + data
