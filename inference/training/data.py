"""Token arrays for training and evaluation, built from the cleaned documents.

- `lm_<split>`: documents of the split joined by <|endoftext|> (uint16); in `lm_train` mail is
  repeated `mail_weight` times (the product's text is email), documents in hashed order.
- `rw_<split>_tokens` / `rw_<split>_offsets` / `rw_<split>_answer`: rewrite examples (rewrites.py),
  one after another; example i is tokens[offsets[i]:offsets[i+1]] and its answer (the tokens the
  loss is on) starts at offsets[i] + answer[i]. Examples longer than the context are dropped.

Saved as one compressed .npz with a JSON sidecar (the device trains from it: no tokenizer,
corpus or npm needed there).
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

import rewrites

EOT_TEXT = "<|endoftext|>"


def _order(docs, seed: int):
    return sorted(docs, key=lambda d: hashlib.sha256(f"{seed}:order:{d.id}".encode()).digest())


def lm_stream(tok, docs, seed: int, mail_weight: int = 1) -> np.ndarray:
    ids: list[int] = []
    for rep in range(max(1, mail_weight)):
        for d in _order(docs, seed + rep):
            if rep > 0 and d.source != "mail":
                continue
            ids.extend(tok.encode(d.text))
            ids.append(tok.eot_id)
    return np.asarray(ids, dtype=np.uint16)


def rewrite_arrays(tok, examples: dict, max_len: int) -> dict[str, np.ndarray]:
    toks: list[int] = []
    offsets = [0]
    answer: list[int] = []
    kinds: list[int] = []
    for k, instr in enumerate(rewrites.INSTRUCTIONS):
        for _, prompt_text, answer_text, _, _ in examples.get(instr, []):
            p = tok.encode(prompt_text)
            a = tok.encode(answer_text) + [tok.eot_id]
            if len(p) + len(a) > max_len + 1:
                continue
            toks.extend(p + a)
            offsets.append(len(toks))
            answer.append(len(p))
            kinds.append(k)
    return {"tokens": np.asarray(toks, dtype=np.uint16), "offsets": np.asarray(offsets, dtype=np.int64),
            "answer": np.asarray(answer, dtype=np.int32), "kind": np.asarray(kinds, dtype=np.int8)}


def build(tok, docs, cfg: dict) -> dict[str, np.ndarray]:
    seed = cfg["seed"]
    out: dict[str, np.ndarray] = {}
    for split in ("train", "validation", "heldout"):
        sd = [d for d in docs if d.split == split]
        out[f"lm_{split}"] = lm_stream(tok, sd, seed, cfg["mail_weight"] if split == "train" else 1)
        if split == "heldout":
            continue  # held-out rewrites are made at evaluation time, never trained on
        n = cfg["rewrites_per_instruction"] if split == "train" else cfg["rewrites_validation"]
        ex = rewrites.examples_from_documents(sd, seed + (0 if split == "train" else 1), n)
        for k, v in rewrite_arrays(tok, ex, cfg["seq"]).items():
            out[f"rw_{split}_{k}"] = v
    return out


def save(arrays: dict[str, np.ndarray], path: str, info: dict) -> None:
    np.savez_compressed(path, **arrays)
    with open(path[:-4] + ".json" if path.endswith(".npz") else path + ".json", "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")


def load(path: str) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def summary(arrays: dict[str, np.ndarray]) -> dict:
    s = {}
    for k, v in arrays.items():
        if k.startswith("lm_"):
            s[k + "_tokens"] = int(len(v))
        elif k.endswith("_offsets"):
            s[k.replace("_offsets", "_examples")] = int(len(v) - 1)
        elif k.endswith("_tokens"):
            s[k] = int(len(v))
    return s
