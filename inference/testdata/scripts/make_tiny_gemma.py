"""Builds the tiny random Gemma test export: a decoder whose ONNX graph has no position_ids input.

Exports without position_ids (Gemma; Bloom and MPT too) number the tokens they are fed from the
physical length of the past they are given. This model lets the worker's tests check that
batching, padding and speculative decoding never shift those positions: its greedy text,
served alone or batched, must equal the PyTorch (transformers) greedy text recorded here.

Writes, under inference/testdata/:
  positionless/tiny-gemma/1/{model.onnx, config.json, tokenizer.json, tokenizer_config.json}
  tiny-gemma.reference.json   greedy token ids from transformers for a few prompts

Run (the venv of the environment notes: torch 2.13 CPU, transformers, onnx, onnxruntime):
  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch==2.13.0+cpu transformers onnx onnxruntime
  /tmp/venv/bin/python inference/testdata/scripts/make_tiny_gemma.py
Deterministic for a given torch/transformers version (seeded weights, fixed prompts).
"""

import json
import os
import shutil
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers
from transformers import GemmaConfig, GemmaForCausalLM
from transformers.cache_utils import DynamicCache

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(HERE)
OUT = os.path.join(TESTDATA, "positionless", "tiny-gemma", "1")
# The byte-level BPE tokenizer of the tiny GPT-style test model (4096 tokens, <|endoftext|> = 4095).
TOKENIZER_FROM = os.path.join(TESTDATA, "models", "tiny-random", "1")
REFERENCE = os.path.join(TESTDATA, "tiny-gemma.reference.json")

SEED = 11
VOCAB = 4096
EOS = 4095
LAYERS = 2
KV_HEADS = 2
HEAD_DIM = 16
NEW_TOKENS = 24
# Random weights give near-uniform logits, where greedy picks would hinge on rounding; a wider
# initialisation gives clear margins (checked below) and makes the output depend on positions.
INIT_STD = 0.35

PROMPTS = [
    "It is a truth universally acknowledged",
    "Emma Woodhouse, handsome, clever, and rich, with a comfortable home",
    "The family",
    "Please let me know if you have any questions about the schedule for next week.",
    "Best regards,",
    "the the the the the the",
]


def build_model() -> GemmaForCausalLM:
    torch.manual_seed(SEED)
    config = GemmaConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=LAYERS,
        num_attention_heads=4,
        num_key_value_heads=KV_HEADS,
        head_dim=HEAD_DIM,
        max_position_embeddings=512,
        bos_token_id=EOS,
        eos_token_id=EOS,
        pad_token_id=EOS,
        initializer_range=INIT_STD,
        attn_implementation="eager",
    )
    model = GemmaForCausalLM(config).eval()
    return model


class OptimumLayout(torch.nn.Module):
    """input_ids, attention_mask, past_key_values.{i}.key|value -> logits, present.{i}.key|value.

    position_ids is deliberately not an input: the model derives positions from the past's
    length, as Optimum's Gemma export does."""

    def __init__(self, model: GemmaForCausalLM):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, *past):
        cache = DynamicCache()
        for i in range(LAYERS):
            cache.update(past[2 * i], past[2 * i + 1], i)
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            past_key_values=cache,
            use_cache=True,
        )
        presents = []
        for i in range(LAYERS):
            layer = out.past_key_values.layers[i]
            presents += [layer.keys, layer.values]
        return (out.logits, *presents)


def export(model: GemmaForCausalLM, path: str) -> None:
    wrapper = OptimumLayout(model)
    past_names, present_names = [], []
    for i in range(LAYERS):
        past_names += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        present_names += [f"present.{i}.key", f"present.{i}.value"]
    batch, past_len, seq = 2, 3, 4
    ids = torch.randint(0, VOCAB, (batch, seq))
    mask = torch.ones(batch, past_len + seq, dtype=torch.int64)
    past = [torch.randn(batch, KV_HEADS, past_len, HEAD_DIM) for _ in past_names]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for n in past_names:
        axes[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in present_names:
        axes[n] = {0: "batch_size", 2: "past_sequence_length + sequence_length"}
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (ids, mask, *past),
            path,
            input_names=["input_ids", "attention_mask", *past_names],
            output_names=["logits", *present_names],
            dynamic_axes=axes,
            opset_version=17,
            # Folding would store the tied embedding twice (once transposed for the lm head);
            # onnxruntime folds that transpose when it loads the graph anyway.
            do_constant_folding=False,
            dynamo=False,
        )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    names = [i.name for i in m.graph.input]
    assert "position_ids" not in names, names


def greedy_reference(model: GemmaForCausalLM, tokenizer) -> list:
    """transformers' own greedy generation, one prompt at a time (no padding anywhere)."""
    cases = []
    for text in PROMPTS:
        ids = tokenizer(text)["input_ids"]
        with torch.no_grad():
            out = model.generate(
                torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.int64),
                max_new_tokens=NEW_TOKENS,
                do_sample=False,
                eos_token_id=None,
                pad_token_id=EOS,
            )
        cases.append({"prompt": text, "prompt_ids": ids, "greedy_ids": out[0, len(ids):].tolist()})
    return cases


def min_margin(model: GemmaForCausalLM, cases: list) -> float:
    """Smallest gap between the best and second-best logit along every reference path."""
    gap = float("inf")
    for c in cases:
        seq = torch.tensor([c["prompt_ids"] + c["greedy_ids"]])
        with torch.no_grad():
            logits = model(seq).logits[0, len(c["prompt_ids"]) - 1 : -1]
        top = torch.topk(logits, 2, dim=-1).values
        gap = min(gap, float((top[:, 0] - top[:, 1]).min()))
    return gap


def check_onnx(path: str, cases: list) -> float:
    """Greedy decoding of the export, step by step with its own presents, must match."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    worst = 0.0
    for c in cases:
        ids = list(c["prompt_ids"])
        past = {f"past_key_values.{i}.{k}": np.zeros((1, KV_HEADS, 0, HEAD_DIM), np.float32)
                for i in range(LAYERS) for k in ("key", "value")}
        feed = ids
        got = []
        for _ in range(NEW_TOKENS):
            total = len(ids) if not got else len(ids) + len(got)
            outs = sess.run(None, {"input_ids": np.array([feed], np.int64),
                                   "attention_mask": np.ones((1, total), np.int64), **past})
            logits = outs[0][0, -1]
            nxt = int(np.argmax(logits))
            got.append(nxt)
            feed = [nxt]
            past = {name: outs[1 + j] for j, name in enumerate(past.keys())}
        if got != c["greedy_ids"]:
            sys.exit(f"ONNX greedy differs from transformers for {c['prompt']!r}: {got} vs {c['greedy_ids']}")
        seq = np.array([c["prompt_ids"] + c["greedy_ids"]], np.int64)
        empty = {n: np.zeros((1, KV_HEADS, 0, HEAD_DIM), np.float32) for n in past}
        full = sess.run(None, {"input_ids": seq, "attention_mask": np.ones_like(seq), **empty})[0]
        worst = max(worst, float(np.abs(full).max()))
    return worst


def gap_changes_output(model: GemmaForCausalLM, cases: list, gap: int = 3) -> int:
    """How many prompts change their greedy text when the generated tokens are numbered `gap`
    positions too far, as a masked hole in a padded KV cache would number them. Must be most
    of them, or the test could not tell a position bug from a correct engine."""
    changed = 0
    for c in cases:
        ids = c["prompt_ids"]
        with torch.no_grad():
            out = model(torch.tensor([ids]), use_cache=True)
            cache, got = out.past_key_values, []
            for step in range(NEW_TOKENS):
                nxt = int(out.logits[0, -1].argmax())
                got.append(nxt)
                pos = torch.tensor([[len(ids) + step + gap]])
                out = model(torch.tensor([[nxt]]), position_ids=pos, past_key_values=cache, use_cache=True)
                cache = out.past_key_values
        changed += got != c["greedy_ids"]
    return changed


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    model = build_model()
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(TOKENIZER_FROM, f), os.path.join(OUT, f))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_file=os.path.join(OUT, "tokenizer.json"))
    model_path = os.path.join(OUT, "model.onnx")
    export(model, model_path)
    cases = greedy_reference(model, tokenizer)
    margin = min_margin(model, cases)
    if margin < 1e-3:
        sys.exit(f"greedy margins too thin for a stable reference ({margin})")
    check_onnx(model_path, cases)
    config = model.config.to_dict()
    config.update({
        "architectures": ["GemmaForCausalLM"],
        "torch_dtype": "float32",
        "flywheel": {
            "note": "random weights for tests; ONNX graph without a position_ids input",
            "script": "inference/testdata/scripts/make_tiny_gemma.py",
            "seed": SEED,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    })
    config.pop("dtype", None)
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(REFERENCE, "w") as f:
        json.dump({"model": "tiny-gemma/1", "max_new_tokens": NEW_TOKENS,
                   "min_greedy_margin": round(margin, 4),
                   "torch": torch.__version__, "transformers": transformers.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {model_path} ({os.path.getsize(model_path)} bytes), {REFERENCE}; "
          f"min greedy margin {margin:.4f}; prompts whose text a 3-position gap changes: "
          f"{gap_changes_output(model, cases)} of {len(cases)}")


if __name__ == "__main__":
    main()
