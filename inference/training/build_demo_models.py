#!/usr/bin/python3
"""Build Flywheel's demo models reproducibly.

    /usr/bin/python3 inference/training/build_demo_models.py            # full build (~45 min, 2 cores)
    /usr/bin/python3 inference/training/build_demo_models.py --tiny --out /tmp/fw-tiny   # CI smoke run (< 2 min)

Steps: verify the pinned corpus (corpus.json) -> train the byte-level BPE tokenizer ->
write the random-weights test model (inference/testdata/models/tiny-random/1) ->
train the teacher and the student -> export each to ONNX (Optimum decoder-with-past
layout) -> verify every export with onnxruntime-node and @huggingface/transformers
(verify_onnx.mjs) -> write samples.

Everything random derives from the seeds below; the ONNX export is deterministic for
given weights. Training runs in bfloat16 autocast on the CPU (Debian's torch uses
reference BLAS for fp32, which is ~50x slower than oneDNN's bf16 kernels), so
bit-identical weights need the same CPU kind and thread count (2).
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The machine is shared: OpenMP threads that spin while waiting slow everyone down.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("PyTorch is missing. Install Debian's build and run with /usr/bin/python3:\n"
             "  apt-get update && apt-get install -y --no-install-recommends python3-torch python3-onnx python3-numpy")

import bpe  # noqa: E402
import corpus  # noqa: E402
import export  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "inference", "models")
TESTDATA_DIR = os.path.join(REPO, "inference", "testdata")
CHECKPOINTS = os.path.join(HERE, ".cache", "checkpoints")  # PyTorch weights of the last full run
THREADS = 2
VERSION = "1"
CHAT_TEMPLATE = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:"
MODEL_LICENCE = "MIT (model weights and tokenizer built by Flywheel from public-domain texts)"
SAMPLE_PROMPTS = ["The old man", "She opened the door and", "It was a", "In the morning", "He said that"]

FULL = {
    "vocab_size": 4096,
    "models": {
        "flywheel-teacher": {
            "arch": dict(n_layer=6, n_head=5, n_embd=320, head_dim=64, n_positions=256, dropout=0.0),
            "train": dict(seed=1001, steps=1100, batch=16, seq=256, lr=1.5e-3, warmup=50, weight_decay=0.1),
        },
        "flywheel-student": {
            "arch": dict(n_layer=3, n_head=6, n_embd=192, head_dim=32, n_positions=256, dropout=0.0),
            "train": dict(seed=2002, steps=700, batch=16, seq=256, lr=2e-3, warmup=50, weight_decay=0.1),
        },
    },
}
TINY = {
    "vocab_size": 4096,
    "models": {
        "flywheel-teacher": {
            "arch": dict(n_layer=2, n_head=2, n_embd=64, head_dim=32, n_positions=128, dropout=0.1),
            "train": dict(seed=1001, steps=40, batch=4, seq=128, lr=3e-3, warmup=5, weight_decay=0.1),
        },
        "flywheel-student": {
            "arch": dict(n_layer=1, n_head=2, n_embd=32, head_dim=16, n_positions=128, dropout=0.0),
            "train": dict(seed=2002, steps=40, batch=4, seq=128, lr=3e-3, warmup=5, weight_decay=0.1),
        },
    },
}
# Deliberately shaped unlike the demo models (head_dim 16, 4 heads, 2 layers), random weights.
TINY_RANDOM = {"name": "tiny-random", "seed": 7,
               "arch": dict(n_layer=2, n_head=4, n_embd=64, head_dim=16, n_positions=512, dropout=0.0)}

TOKENIZER_CHECK_TEXTS = [
    "It is a truth universally acknowledged, that a single man in possession of a good fortune",
    "  Two  spaces, tabs\tand\nnew lines\n\n; unicode: café £5 — “quoted” 🙂 <|endoftext|> after",
    "She opened the door and",
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def set_determinism(seed: int) -> None:
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True, warn_only=True)


# --- data --------------------------------------------------------------------------------

def build_tokenizer(docs: list[str], vocab_size: int) -> bpe.Tokenizer:
    vocab, merges = bpe.train_bpe(docs, vocab_size)
    tok = bpe.Tokenizer(vocab, merges)
    assert tok.vocab_size == vocab_size, tok.vocab_size
    text = corpus.canonical_text(docs)
    sample = text[:20000] + text[-20000:]
    assert tok.decode(tok.encode(sample)) == sample
    return tok


def split_tokens(tok: bpe.Tokenizer, docs: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Train/validation token streams: the last 2% of each novel is held out."""
    train, val = [], []
    for d in docs:
        ids = tok.encode(d)
        cut = int(len(ids) * 0.98)
        train.extend(ids[:cut] + [tok.eot_id])
        val.extend(ids[cut:] + [tok.eot_id])
    return torch.tensor(train, dtype=torch.long), torch.tensor(val, dtype=torch.long)


def batches(data: torch.Tensor, batch: int, seq: int, gen: torch.Generator):
    while True:
        starts = torch.randint(0, len(data) - seq - 1, (batch,), generator=gen)
        x = torch.stack([data[s:s + seq + 1] for s in starts.tolist()])
        yield x[:, :-1], x[:, 1:]


# --- training ----------------------------------------------------------------------------

def lr_at(step: int, t: dict) -> float:
    if step < t["warmup"]:
        return t["lr"] * (step + 1) / t["warmup"]
    progress = (step - t["warmup"]) / max(1, t["steps"] - t["warmup"])
    return t["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def evaluate(model: GPT, data: torch.Tensor, seq: int, n: int = 8) -> float:
    model.eval()
    losses = []
    step = max(1, (len(data) - seq - 1) // n)
    for i in range(n):
        s = min(i * step, len(data) - seq - 1)
        x = data[s:s + seq + 1].unsqueeze(0)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits, _ = model(x[:, :-1])
        losses.append(F.cross_entropy(logits.float().view(-1, logits.shape[-1]), x[0, 1:]).item())
    model.train()
    return sum(losses) / len(losses)


def train(name: str, spec: dict, vocab_size: int, train_ids: torch.Tensor, val_ids: torch.Tensor) -> tuple[GPT, dict]:
    t = spec["train"]
    set_determinism(t["seed"])
    cfg = GPTConfig(vocab_size=vocab_size, **spec["arch"])
    model = GPT(cfg)
    log(f"{name}: {model.num_params():,} parameters, {t['steps']} steps of {t['batch']}x{t['seq']} tokens")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "wpe" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "wpe" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": t["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=t["lr"], betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(t["seed"])
    data = batches(train_ids, t["batch"], t["seq"], gen)
    start = time.time()
    ema = None
    model.train()
    for step in range(t["steps"]):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, t)
        x, y = next(data)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits, _ = model(x)
        loss = F.cross_entropy(logits.float().view(-1, vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 50 == 0 or step == t["steps"] - 1:
            el = time.time() - start
            eta = el / (step + 1) * (t["steps"] - step - 1)
            log(f"{name}: step {step:5d}/{t['steps']} loss {loss.item():.4f} (avg {ema:.4f}) "
                f"lr {lr_at(step, t):.2e} {el / 60:.1f} min, eta {eta / 60:.1f} min")
    minutes = (time.time() - start) / 60
    val = evaluate(model, val_ids, t["seq"])
    log(f"{name}: done in {minutes:.1f} min, final train loss (avg) {ema:.4f}, validation loss {val:.4f}")
    info = {"seed": t["seed"], "steps": t["steps"], "batch_size": t["batch"], "sequence_length": t["seq"],
            "tokens_seen": t["steps"] * t["batch"] * t["seq"], "optimizer": "AdamW(0.9, 0.95)",
            "learning_rate": t["lr"], "warmup_steps": t["warmup"], "schedule": "cosine to 10%",
            "weight_decay": t["weight_decay"], "dropout": spec["arch"].get("dropout", 0.0),
            "precision": "bfloat16 autocast, fp32 master weights", "threads": THREADS,
            "final_train_loss": round(ema, 4), "validation_loss": round(val, 4),
            "minutes": round(minutes, 1)}
    return model, info


# --- writing models ----------------------------------------------------------------------

def config_json(name: str, model: GPT, tok: bpe.Tokenizer, digest: str, spec: dict, training: dict | None) -> dict:
    c = model.cfg
    arch = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "num_hidden_layers": c.n_layer, "n_layer": c.n_layer,
        "num_attention_heads": c.n_head, "n_head": c.n_head,
        "num_key_value_heads": c.n_head,
        "hidden_size": c.n_embd, "n_embd": c.n_embd,
        "head_dim": c.head_dim,
        "intermediate_size": c.inner,
        "vocab_size": c.vocab_size,
        "max_position_embeddings": c.n_positions, "n_positions": c.n_positions,
        "bos_token_id": tok.eot_id, "eos_token_id": tok.eot_id, "pad_token_id": tok.eot_id,
        "position_embedding": "learned (position_ids input)",
        "norm": "pre-LayerNorm", "activation": "gelu", "tie_word_embeddings": True,
        "parameters": model.num_params(),
    }
    return {
        "name": name,
        "version": VERSION,
        "format": "onnx",
        "layout": "optimum-decoder-with-past",
        "dtype": "float32",
        "opset": export.OPSET,
        **{k: arch[k] for k in ("model_type", "num_hidden_layers", "num_attention_heads", "hidden_size",
                                "head_dim", "vocab_size", "max_position_embeddings", "bos_token_id",
                                "eos_token_id", "pad_token_id")},
        "architecture": arch,
        "digest": f"sha256:{digest}",
        "corpus": corpus_summary(spec),
        "licence": MODEL_LICENCE,
        "training": training,
        "chat_template": CHAT_TEMPLATE,
    }


def corpus_summary(spec: dict) -> dict:
    return {"name": spec["name"], "package": spec["package"]["name"], "version": spec["package"]["version"],
            "manager": spec["package"]["manager"], "licence": spec["licence_spdx"], "sha256": spec["text_sha256"]}


def write_model(out_dir: str, name: str, model: GPT, tok: bpe.Tokenizer, spec: dict,
                training: dict | None, reference_path: str | None = None) -> str:
    d = os.path.join(out_dir, name, VERSION)
    os.makedirs(d, exist_ok=True)
    digest = export.export_onnx(model, os.path.join(d, "model.onnx"))
    tok.save(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(bpe.tokenizer_config(model.cfg.n_positions, CHAT_TEMPLATE), f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config_json(name, model, tok, digest, spec, training), f, indent=2)
        f.write("\n")
    size = os.path.getsize(os.path.join(d, "model.onnx")) / 2**20
    log(f"wrote {os.path.relpath(d, REPO)} (model.onnx {size:.1f} MiB, sha256 {digest[:16]}...)")
    verify(d, model, tok, reference_path)
    return d


def verify(model_dir: str, model: GPT, tok: bpe.Tokenizer, reference_path: str | None) -> None:
    """Dump PyTorch reference outputs and check the export with onnxruntime-node."""
    prompts = ["It was a", "She opened the door and looked"]
    ref_path = reference_path or os.path.join(tempfile.mkdtemp(prefix="fw-ref-"), "reference.json")
    ref = export.reference_cases(model, [tok.encode(p) for p in prompts], tok.eot_id)
    ref["tokenizer_cases"] = [{"text": s, "ids": tok.encode(s)} for s in TOKENIZER_CHECK_TEXTS]
    if ref["cache_consistency_max_abs_err"] > 1e-4:
        sys.exit(f"KV-cache path disagrees with the full pass: {ref['cache_consistency_max_abs_err']}")
    with open(ref_path, "w") as f:
        json.dump(ref, f)
        f.write("\n")
    node = shutil.which("node")
    if node is None or not os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")):
        log("verify: node or node_modules missing, skipped the onnxruntime-node check (run npm ci)")
        return
    r = subprocess.run([node, os.path.join(HERE, "verify_onnx.mjs"), model_dir, ref_path], cwd=REPO,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit(f"verify failed for {model_dir}")
    log(r.stdout.strip().splitlines()[-1])


# --- samples -----------------------------------------------------------------------------

@torch.no_grad()
def continue_text(model: GPT, tok: bpe.Tokenizer, prompt: str, max_new: int = 40,
                  temperature: float = 0.0, top_k: int = 40, seed: int = 0) -> str:
    """Greedy (temperature 0) or seeded top-k sampling, with the KV cache."""
    model = model.float().eval()
    ids = tok.encode(prompt)
    cfg = model.cfg
    past = [(torch.zeros(1, cfg.n_head, 0, cfg.head_dim), torch.zeros(1, cfg.n_head, 0, cfg.head_dim))
            for _ in range(cfg.n_layer)]
    x = torch.tensor([ids])
    gen = torch.Generator().manual_seed(seed)
    out: list[int] = []
    pos = 0
    for _ in range(max_new):
        n = x.shape[1]
        mask = torch.ones(1, pos + n, dtype=torch.long)
        logits, past = model(x, mask, torch.arange(pos, pos + n).unsqueeze(0), past)
        pos += n
        if temperature <= 0:
            nxt = int(logits[0, -1].argmax())
        else:
            top = torch.topk(logits[0, -1] / temperature, top_k)
            probs = torch.softmax(top.values, dim=-1)
            nxt = int(top.indices[torch.multinomial(probs, 1, generator=gen)])
        if nxt == tok.eot_id or "\n" in tok.decode([nxt]) or pos >= cfg.n_positions:
            break
        out.append(nxt)
        x = torch.tensor([[nxt]])
    return tok.decode(out)


def write_samples(models: dict, tok: bpe.Tokenizer, path: str, out_dir: str) -> None:
    lines = ["# Samples", "",
             "Continuations written by `build_demo_models.py` after training, from the PyTorch weights",
             "that were exported (up to 40 tokens, stopping at a new line). *Greedy*: argmax, the way the",
             "worker decodes at temperature 0 (small models loop). *Sampled*: temperature 0.7, top-k 40,",
             "seed = index of the prompt.", ""]
    for name, model in models.items():
        if model is None:
            continue
        info = ""
        cfg_path = os.path.join(out_dir, name, VERSION, "config.json")
        if os.path.exists(cfg_path):
            with open(cfg_path) as f:
                t = json.load(f).get("training") or {}
            if "validation_loss" in t:
                info = f" — validation loss {t['validation_loss']}, {t['steps']} steps, {t['minutes']} min"
        lines += [f"## {name}{info}", "", "| prompt | greedy | sampled (T=0.7) |", "| --- | --- | --- |"]
        for i, p in enumerate(SAMPLE_PROMPTS):
            g = continue_text(model, tok, p)
            r = continue_text(model, tok, p, temperature=0.7, seed=i)
            cell = lambda c: (p + c).replace("|", "\\|")  # noqa: E731
            lines.append(f"| {p} | {cell(g)} | {cell(r)} |")
            log(f"{name}: {p!r} -> greedy {g!r} / sampled {r!r}")
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    prettier = os.path.join(REPO, "node_modules", ".bin", "prettier")
    if os.path.exists(prettier):  # keep `npm run format:check` green
        subprocess.run([prettier, "--write", path], cwd=REPO, capture_output=True)


# --- main --------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="tiny configuration for CI (< 2 min); needs --out")
    ap.add_argument("--out", help=f"models output folder (default {os.path.relpath(DEFAULT_OUT, REPO)})")
    ap.add_argument("--only", choices=["testdata", "teacher", "student"], action="append",
                    help="build only these parts (repeatable)")
    ap.add_argument("--init-only", action="store_true",
                    help="export the demo shapes with untrained weights (placeholders)")
    ap.add_argument("--no-testdata", action="store_true", help="do not rewrite inference/testdata")
    args = ap.parse_args()
    if args.tiny and not args.out:
        ap.error("--tiny writes to a scratch folder: give --out DIR")
    out = os.path.abspath(args.out or DEFAULT_OUT)
    plan = FULL if not args.tiny else TINY
    parts = set(args.only or ["testdata", "teacher", "student"])
    if args.tiny or args.no_testdata:
        parts.discard("testdata")
    t0 = time.time()
    set_determinism(0)

    docs, spec = corpus.load_documents()
    log(f"corpus {spec['name']} from {spec['package']['name']} {spec['package']['version']}: "
        f"{sum(map(len, docs)):,} chars, sha256 verified")
    tok = build_tokenizer(docs, plan["vocab_size"])
    train_ids, val_ids = split_tokens(tok, docs)
    log(f"tokenizer: byte-level BPE, {tok.vocab_size} tokens; corpus = {len(train_ids):,} train + "
        f"{len(val_ids):,} validation tokens")

    if "testdata" in parts:
        set_determinism(TINY_RANDOM["seed"])
        m = GPT(GPTConfig(vocab_size=tok.vocab_size, **TINY_RANDOM["arch"]))
        write_model(os.path.join(TESTDATA_DIR, "models"), TINY_RANDOM["name"], m, tok, spec,
                    {"seed": TINY_RANDOM["seed"], "steps": 0, "note": "random weights, for tests"},
                    reference_path=os.path.join(TESTDATA_DIR, "tiny-random.reference.json"))

    trained = {}
    for role in ("teacher", "student"):
        if role not in parts:
            continue
        name = f"flywheel-{role}"
        mspec = plan["models"][name]
        if args.init_only:
            set_determinism(mspec["train"]["seed"])
            model = GPT(GPTConfig(vocab_size=tok.vocab_size, **mspec["arch"]))
            info = {"seed": mspec["train"]["seed"], "steps": 0, "note": "untrained placeholder"}
        else:
            model, info = train(name, mspec, tok.vocab_size, train_ids, val_ids)
        write_model(out, name, model, tok, spec, info)
        trained[name] = model
        if not args.init_only and not args.tiny:
            os.makedirs(CHECKPOINTS, exist_ok=True)
            torch.save({"config": model.cfg.to_dict(), "state_dict": model.state_dict()},
                       os.path.join(CHECKPOINTS, f"{name}.pt"))

    if trained and not args.init_only and not args.tiny:
        # models not rebuilt in this run come from the checkpoints of an earlier run
        for role in ("teacher", "student"):
            name = f"flywheel-{role}"
            ckpt = os.path.join(CHECKPOINTS, f"{name}.pt")
            if name not in trained and os.path.exists(ckpt):
                c = torch.load(ckpt)
                m = GPT(GPTConfig(**c["config"]))
                m.load_state_dict(c["state_dict"])
                trained[name] = m
        trained = {k: trained[k] for k in sorted(trained, key=lambda n: "student" in n)}
    if trained and not args.init_only:
        samples_path = os.path.join(HERE, "SAMPLES.md") if not args.tiny else os.path.join(out, "SAMPLES.md")
        write_samples(trained, tok, samples_path, out)
    log(f"all done in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
