"""Hugging Face side of a model folder: GPT2Config `config.json`, GPT-2 parameter names and
`safetensors` files (written and read here without the safetensors package, so Debian's
torch 1.13 can run it), and the way back from an exported `model.onnx` to PyTorch weights.

Our decoder (model.py) is GPT-2's architecture exactly (pre-LayerNorm, learned positions,
exact GELU, 1/sqrt(head_dim) scaling, tied LM head, n_head * head_dim == n_embd), so
`transformers.GPT2LMHeadModel.from_pretrained(<folder>)` loads these weights unchanged.
GPT-2 stores its linear layers as Conv1D ([in, out]): our nn.Linear weights are transposed.
"""
from __future__ import annotations

import json
import os
import struct

import numpy as np
import torch

from model import GPT, GPTConfig

ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
NP_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def gpt2_config(cfg: GPTConfig, eot_id: int, dtype: str = "float32") -> dict:
    """A real transformers GPT2Config (what `GPT2Config(...).to_json_string()` holds)."""
    if cfg.n_head * cfg.head_dim != cfg.n_embd:
        raise ValueError("GPT-2 needs n_head * head_dim == n_embd")
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": cfg.vocab_size,
        "n_positions": cfg.n_positions,
        "n_embd": cfg.n_embd,
        "n_layer": cfg.n_layer,
        "n_head": cfg.n_head,
        "n_inner": cfg.inner,
        "activation_function": "gelu",
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "layer_norm_epsilon": 1e-05,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "summary_activation": None,
        "summary_proj_to_labels": True,
        "summary_first_dropout": 0.1,
        "use_cache": True,
        "bos_token_id": eot_id,
        "eos_token_id": eot_id,
        "pad_token_id": eot_id,
        "tie_word_embeddings": True,
        "torch_dtype": dtype,
    }


def to_gpt2_state_dict(model: GPT) -> dict[str, torch.Tensor]:
    sd = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    out = {"transformer.wte.weight": sd["wte.weight"], "transformer.wpe.weight": sd["wpe.weight"],
           "transformer.ln_f.weight": sd["ln_f.weight"], "transformer.ln_f.bias": sd["ln_f.bias"]}
    for i in range(model.cfg.n_layer):
        p, q = f"blocks.{i}.", f"transformer.h.{i}."
        out[q + "ln_1.weight"], out[q + "ln_1.bias"] = sd[p + "ln1.weight"], sd[p + "ln1.bias"]
        out[q + "ln_2.weight"], out[q + "ln_2.bias"] = sd[p + "ln2.weight"], sd[p + "ln2.bias"]
        for ours, theirs in (("attn.qkv", "attn.c_attn"), ("attn.proj", "attn.c_proj"),
                             ("mlp.fc", "mlp.c_fc"), ("mlp.proj", "mlp.c_proj")):
            out[q + theirs + ".weight"] = sd[p + ours + ".weight"].t().contiguous()
            out[q + theirs + ".bias"] = sd[p + ours + ".bias"]
    return out


def from_gpt2_state_dict(sd: dict[str, torch.Tensor], cfg: GPTConfig) -> GPT:
    model = GPT(cfg)
    ours = {"wte.weight": sd["transformer.wte.weight"], "wpe.weight": sd["transformer.wpe.weight"],
            "ln_f.weight": sd["transformer.ln_f.weight"], "ln_f.bias": sd["transformer.ln_f.bias"]}
    for i in range(cfg.n_layer):
        p, q = f"blocks.{i}.", f"transformer.h.{i}."
        ours[p + "ln1.weight"], ours[p + "ln1.bias"] = sd[q + "ln_1.weight"], sd[q + "ln_1.bias"]
        ours[p + "ln2.weight"], ours[p + "ln2.bias"] = sd[q + "ln_2.weight"], sd[q + "ln_2.bias"]
        for o, t in (("attn.qkv", "attn.c_attn"), ("attn.proj", "attn.c_proj"), ("mlp.fc", "mlp.c_fc"),
                     ("mlp.proj", "mlp.c_proj")):
            ours[p + o + ".weight"] = sd[q + t + ".weight"].t().contiguous()
            ours[p + o + ".bias"] = sd[q + t + ".bias"]
    model.load_state_dict({k: v.float() for k, v in ours.items()})
    return model


def config_from_gpt2(c: dict) -> GPTConfig:
    return GPTConfig(vocab_size=c["vocab_size"], n_layer=c["n_layer"], n_head=c["n_head"], n_embd=c["n_embd"],
                     head_dim=c["n_embd"] // c["n_head"], n_positions=c["n_positions"],
                     n_inner=c.get("n_inner"), dropout=0.0)


# --- safetensors (format: u64 header length, JSON header, raw little-endian data) ----------

def save_safetensors(tensors: dict[str, torch.Tensor], path: str, metadata: dict | None = None) -> None:
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            data = t.view(torch.int16).numpy().tobytes()
        else:
            data = t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path: str) -> dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            f.seek(base + a)
            raw = f.read(b - a)
            if info["dtype"] == "BF16":
                arr = np.frombuffer(raw, dtype=np.int16).copy()
                out[name] = torch.from_numpy(arr).view(torch.bfloat16).reshape(info["shape"])
            else:
                arr = np.frombuffer(raw, dtype=NP_DTYPES[info["dtype"]]).copy()
                out[name] = torch.from_numpy(arr).reshape(info["shape"])
    return out


def save_model_weights(model: GPT, path: str, dtype: torch.dtype = torch.float32) -> None:
    """GPT-2 names (what transformers loads); lm_head is tied to wte and not stored."""
    sd = {k: v.to(dtype) for k, v in to_gpt2_state_dict(model).items()}
    save_safetensors(sd, path, {"format": "pt"})


def save_sharded(model: GPT, out_dir: str, prefix: str, max_bytes: int = 15 * 2**20) -> list[str]:
    """fp32 GPT-2 weights in shards of at most max_bytes (for transfers with a per-file limit)."""
    sd = to_gpt2_state_dict(model)
    shards: list[dict] = [{}]
    size = 0
    for name in sorted(sd):
        n = sd[name].numel() * 4
        if size + n > max_bytes and shards[-1]:
            shards.append({})
            size = 0
        shards[-1][name] = sd[name]
        size += n
    paths = []
    for i, sh in enumerate(shards):
        p = os.path.join(out_dir, f"{prefix}-{i + 1:02d}-of-{len(shards):02d}.safetensors")
        save_safetensors(sh, p, {"format": "pt"})
        paths.append(p)
    return paths


def load_sharded(paths: list[str]) -> dict[str, torch.Tensor]:
    sd: dict[str, torch.Tensor] = {}
    for p in sorted(paths):
        sd.update(load_safetensors(p))
    return sd


# --- back from ONNX -----------------------------------------------------------------------

def weights_from_onnx(model_dir: str) -> GPT:
    """The exact fp32 PyTorch model of a folder's model.onnx (its initializers are the weights,
    found through the exporter's node names), for distillation when the folder has no
    model.safetensors:
        python3 inference/training/hf.py inference/models/flywheel-student/1   # writes model.safetensors"""
    import onnx
    from onnx import numpy_helper

    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = config_from_gpt2(json.load(f))
    m = onnx.load(os.path.join(model_dir, "model.onnx"))
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    alias = {n.output[0]: n.input[0] for n in m.graph.node if n.op_type == "Identity"}

    def const(name: str):
        while name in alias:
            name = alias[name]
        return inits.get(name)

    found: dict[str, np.ndarray] = {}
    for n in m.graph.node:
        if not n.name.startswith("/model/"):
            continue
        if n.name.count("/") < 3:
            continue
        path, op = n.name[len("/model/"):].rsplit("/", 1)
        module = path.replace("/", ".")
        consts = [const(x) for x in n.input]
        c = next((a for a in consts if a is not None), None)
        if c is None:
            continue
        if op == "Gather" and module in ("wte", "wpe"):
            found[module + ".weight"] = c
        elif op == "MatMul" and module.endswith(("qkv", "proj", "fc")):
            found[module + ".weight"] = c.T
        elif op == "Add" and module.endswith(("qkv", "proj", "fc")):
            found[module + ".bias"] = c
        elif op == "Mul" and module.split(".")[-1] in ("ln1", "ln2", "ln_f"):
            found[module + ".weight"] = c
        elif op == "Add_1" and module.split(".")[-1] in ("ln1", "ln2", "ln_f"):
            found[module + ".bias"] = c
    model = GPT(cfg)
    sd = model.state_dict()
    missing = [k for k in sd if k not in found]
    if missing:
        raise RuntimeError(f"model.onnx: no weights found for {missing}")
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(found[k]).astype(np.float32)) for k in sd})
    return model


if __name__ == "__main__":
    import sys
    d = sys.argv[1]
    mdl = weights_from_onnx(d)
    save_model_weights(mdl, os.path.join(d, "model.safetensors"),
                       torch.float16 if "--fp16" in sys.argv else torch.float32)
    print(f"wrote {os.path.join(d, 'model.safetensors')} ({mdl.num_params():,} parameters)")
