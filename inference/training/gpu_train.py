#!/usr/bin/env python3
"""Train the demo teacher and student from a prepared data folder (on the GPU machine).

    python3 inference/training/build_demo_models.py --prepare-gpu        # here: writes inference/training/.gpu/
    python3 inference/training/gpu_train.py --data inference/training/.gpu --out "$OUT"   # there
    python3 inference/training/build_demo_models.py --from-gpu <OUT>     # here: export, int8, checks

The folder holds data.npz (token arrays, data.py) and plan.json (shapes, variants, budgets);
no corpus, tokenizer or npm is needed here. Teacher variants are trained one after another and
the best by validation loss is kept; each student variant is distilled from that teacher
(train.py) and the best is kept. Writes fp32 GPT-2-named safetensors shards
(teacher-XX-of-YY.safetensors, student-XX-of-YY.safetensors) and train_log.json to --out.
Every variant stops at its time budget (the cosine schedule is fitted to it after 20 steps).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import data  # noqa: E402
import hf  # noqa: E402
import train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true", help="a few steps of everything (to check the command)")
    args = ap.parse_args()
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.data, "plan.json")) as f:
        plan = json.load(f)
    arrays = data.load(os.path.join(args.data, "data.npz"))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    else:
        torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    eot = plan["eot_id"]
    log_lines: list[str] = []

    def log(msg: str) -> None:
        line = f"[{time.time() - t0:6.1f}s] {msg}"
        log_lines.append(line)
        # stdout stays short (the device returns its tail): every 5th evaluation line
        m = re.search(r": step (\d+)/(\d+) ", msg)
        if m is None or int(m.group(1)) % 500 == 0 or m.group(1) == m.group(2):
            print(line, flush=True)

    gpu = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    log(f"torch {torch.__version__}, device {gpu}; data {data.summary(arrays)}")
    record: dict = {"torch": torch.__version__, "device": gpu, "variants": {}, "chosen": {}}

    def run_role(role: str, teacher=None):
        spec = plan[role]
        best, best_info, best_name = None, None, None
        for i, v in enumerate(spec["variants"]):
            t = {**plan["train"], **spec["train"], **v.get("train", {}), "vocab_size": plan["vocab_size"]}
            arch = {**spec["arch"], **v.get("arch", {})}
            budget = spec["seconds_per_variant"]
            if isinstance(budget, list):
                budget = budget[i]
            if args.smoke:
                t.update(steps=4, warmup=2, eval_every=2, eval_windows=4)
                budget = None
            name = f"{role}/{v['name']}"
            try:
                model, info = train.train(name, arch, t, arrays, eot, device, teacher=teacher, time_budget=budget, log=log)
            except Exception:  # noqa: BLE001 - one failed variant must not lose the others
                import traceback

                log(f"{name} failed:\n{traceback.format_exc()}")
                continue
            s = train.score({"lm_loss": info["val_lm_loss"], "rw_loss": info["val_rw_loss"]}, t)
            info["score"] = round(s, 4)
            info["arch"] = arch
            record["variants"][name] = info
            log(f"{name}: best step {info['best_step']}, val lm {info['val_lm_loss']} rw {info['val_rw_loss']} "
                f"score {s:.4f}, {info['seconds']} s")
            if best is None or s < best_info["score"]:
                best, best_info, best_name = model, info, name
            if device == "cuda":
                torch.cuda.empty_cache()
        if best is None:
            raise RuntimeError(f"every {role} variant failed")
        record["chosen"][role] = best_name
        paths = hf.save_sharded(best, args.out, role)
        log(f"{role}: chose {best_name}; wrote {[os.path.basename(p) for p in paths]}")
        return best

    teacher = run_role("teacher")
    run_role("student", teacher=teacher.to(device))
    record["seconds"] = round(time.time() - t0, 1)
    record["log"] = log_lines
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(record, f, indent=1)
    log("done")


if __name__ == "__main__":
    main()
