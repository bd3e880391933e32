"""ONNX export in the Hugging Face Optimum decoder-with-past layout, plus reference
outputs from PyTorch that verify_onnx.mjs compares against onnxruntime-node."""
from __future__ import annotations

import hashlib
import inspect
import io
import json
import os

import onnx
import torch

from model import GPT, OnnxWrapper

OPSET = 14


def io_names(n_layer: int) -> tuple[list[str], list[str], dict]:
    inputs = ["input_ids", "attention_mask", "position_ids"]
    outputs = ["logits"]
    axes = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for i in range(n_layer):
        for kind in ("key", "value"):
            inputs.append(f"past_key_values.{i}.{kind}")
            outputs.append(f"present.{i}.{kind}")
            axes[f"past_key_values.{i}.{kind}"] = {0: "batch_size", 2: "past_sequence_length"}
            axes[f"present.{i}.{kind}"] = {0: "batch_size", 2: "past_sequence_length + sequence_length"}
    return inputs, outputs, axes


def _untie_lm_head_copy(m: onnx.ModelProto, model: GPT) -> None:
    """Constant folding stores the tied LM head as a transposed copy of the embedding
    table (a MatMul initializer [d, vocab]). Replace that MatMul by Gemm(transB=1) on the
    embedding itself so the table is stored once."""
    from onnx import helper, numpy_helper

    wte = model.wte.weight.detach().numpy()
    inits = {i.name: i for i in m.graph.initializer}
    emb_name = next(n for n, i in inits.items() if tuple(i.dims) == wte.shape
                    and (numpy_helper.to_array(i) == wte).all())
    for idx, node in enumerate(m.graph.node):
        if node.op_type != "MatMul" or node.input[1] not in inits:
            continue
        init = inits[node.input[1]]
        if tuple(init.dims) != (wte.shape[1], wte.shape[0]):
            continue
        if not (numpy_helper.to_array(init) == wte.T).all():
            continue
        gemm = helper.make_node("Gemm", [node.input[0], emb_name], list(node.output), name=node.name + "_tied",
                                transB=1)
        m.graph.node.remove(node)
        m.graph.node.insert(idx, gemm)
        m.graph.initializer.remove(init)
        return
    raise RuntimeError("tied LM head MatMul not found in the exported graph")


def export_onnx(model: GPT, path: str) -> str:
    """Export fp32, single file, deterministic; return the sha256 of model.onnx."""
    model = model.float().eval()
    cfg = model.cfg
    b, s, p = 2, 3, 4
    gen = torch.Generator().manual_seed(0)
    input_ids = torch.randint(0, cfg.vocab_size, (b, s), generator=gen)
    attention_mask = torch.ones(b, p + s, dtype=torch.long)
    position_ids = torch.arange(p, p + s).unsqueeze(0).expand(b, s).contiguous()
    past = []
    for _ in range(cfg.n_layer):
        past.append(torch.zeros(b, cfg.n_head, p, cfg.head_dim))
        past.append(torch.zeros(b, cfg.n_head, p, cfg.head_dim))
    inputs, outputs, axes = io_names(cfg.n_layer)
    buf = io.BytesIO()
    # torch >= 2.9 defaults to the dynamo exporter: ask for the TorchScript one (as in torch 1.13)
    extra = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(
            OnnxWrapper(model), (input_ids, attention_mask, position_ids, *past), buf,
            input_names=inputs, output_names=outputs, dynamic_axes=axes,
            opset_version=OPSET, do_constant_folding=True, **extra,
        )
    m = onnx.load_from_string(buf.getvalue())
    _untie_lm_head_copy(m, model)
    onnx.checker.check_model(m)
    m.producer_name = "flywheel-training"
    m.producer_version = "1"
    m.doc_string = f"Flywheel GPT decoder (Optimum decoder-with-past layout), {model.num_params()} parameters"
    data = m.SerializeToString()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


@torch.no_grad()
def reference_cases(model: GPT, tok_ids: list[list[int]], pad_id: int) -> dict:
    """PyTorch outputs for (1) a left-padded batch with an empty past and
    (2) two more tokens per row on top of the presents of (1)."""
    model = model.float().eval()
    cfg = model.cfg
    b = len(tok_ids)
    s = max(len(t) for t in tok_ids)
    ids = torch.full((b, s), pad_id, dtype=torch.long)
    mask = torch.zeros(b, s, dtype=torch.long)
    for i, t in enumerate(tok_ids):
        ids[i, s - len(t):] = torch.tensor(t)
        mask[i, s - len(t):] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    empty = [(torch.zeros(b, cfg.n_head, 0, cfg.head_dim), torch.zeros(b, cfg.n_head, 0, cfg.head_dim))
             for _ in range(cfg.n_layer)]
    logits1, presents = model(ids, mask, pos, empty)
    nxt = logits1[:, -1].argmax(-1)
    ids2 = torch.stack([nxt, (nxt + 1) % cfg.vocab_size], dim=1)
    mask2 = torch.cat([mask, torch.ones(b, 2, dtype=torch.long)], dim=1)
    pos2 = pos[:, -1:] + torch.arange(1, 3).unsqueeze(0)
    logits2, presents2 = model(ids2, mask2, pos2, presents)
    # the same continuation without a cache must give the same logits at unmasked positions
    full_logits, _ = model(torch.cat([ids, ids2], 1), mask2, torch.cat([pos, pos2], 1), None)
    cache_err = (full_logits[:, -2:] - logits2).abs().max().item()
    return {
        "n_layer": cfg.n_layer, "n_head": cfg.n_head, "head_dim": cfg.head_dim, "vocab_size": cfg.vocab_size,
        "cache_consistency_max_abs_err": cache_err,
        "step1": {"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "position_ids": pos.tolist(),
                  "logits_last": logits1[:, -1].tolist(), "logits_all_sum": logits1.sum(-1).tolist(),
                  "present0_key_sum": presents[0][0].sum().item()},
        "step2": {"input_ids": ids2.tolist(), "attention_mask": mask2.tolist(), "position_ids": pos2.tolist(),
                  "logits": logits2.tolist()},
    }


def write_reference(model: GPT, tok_ids: list[list[int]], pad_id: int, path: str) -> float:
    ref = reference_cases(model, tok_ids, pad_id)
    with open(path, "w") as f:
        json.dump(ref, f)
    return ref["cache_consistency_max_abs_err"]
