"""Distil a student from a teacher served over the OpenAI-compatible API, on a dataset version's
prompts, and export it in the demo models' layout with its lineage.

  python inference/training/distill.py --dataset <export folder> --teacher-url http://127.0.0.1:8001/v1 \
      --teacher flywheel-teacher --student inference/models/flywheel-student/1 \
      --out <repository>/<name>/<version> [--worker-url http://127.0.0.1:8001] [--steps 50] ...

The teacher samples a continuation of each prompt with its top-k log-probabilities per position
(distill_teacher.py); the student is trained on those positions with distill_losses.py (beta = 1:
reverse KL, 0: forward KL, between: GKD's generalized JSD; --mode partition keeps the mass beyond
the top-k in a rest cell). Before and after training the mean divergence on the eval split's
prompts is measured on the same teacher samples. The student starts from the exact weights of
its model.onnx (hf.weights_from_onnx). A checkpoint is written every --checkpoint-every steps;
after a teacher outage (TeacherUnavailable: the run stops with the reason) --resume continues.
With --worker-url the worker is asked to load the new folder (KServe v2 repository API), and the
app registers the version when it next reads the worker's model list.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
import urllib.request

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from distill_losses import distill_loss  # noqa: E402
from distill_teacher import TeacherClient, TeacherUnavailable  # noqa: E402
from export import export_onnx  # noqa: E402
from hf import weights_from_onnx  # noqa: E402


def read_prompts(folder, split):
    path = os.path.join(folder, f"{split}.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line)["prompt"] for line in f if line.strip()]


def seed_of(*parts):
    return int(hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def sample_loss(student, sample, args):
    """Divergence over the completion positions of one teacher sample (None when it is empty)."""
    if not sample.ids:
        return None
    max_prompt = student.cfg.n_positions - len(sample.ids)
    prompt = sample.prompt_ids[-max_prompt:]
    ids = torch.tensor([prompt + sample.ids])
    logits, _ = student(ids, fast=True)
    # Position i predicts token i + 1: the completion's tokens are predicted from len(prompt) - 1 on.
    start = len(prompt) - 1
    rows = logits[0, start : start + len(sample.ids)]
    return distill_loss(
        rows,
        torch.tensor(sample.topk_logprobs),
        torch.tensor(sample.topk_ids),
        beta=args.beta,
        mode=args.mode,
    )


def evaluate(student, samples, args):
    student.eval()
    with torch.no_grad():
        losses = [l.item() for l in (sample_loss(student, s, args) for s in samples) if l is not None]
    student.train()
    return sum(losses) / max(1, len(losses))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="a dataset version's export folder")
    p.add_argument("--teacher-url", required=True)
    p.add_argument("--teacher", required=True)
    p.add_argument("--student", required=True, help="folder with model.onnx, config.json, tokenizer.json")
    p.add_argument("--out", required=True, help="<repository>/<name>/<version>")
    p.add_argument("--worker-url")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--eval-prompts", type=int, default=16)
    p.add_argument("--max-new-tokens", type=int, default=16)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--mode", choices=["partition", "renormalized"], default="partition")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=3e-5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=10)
    p.add_argument("--resume", action="store_true")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    with open(os.path.join(args.dataset, "manifest.json")) as f:
        manifest = json.load(f)
    train, held_out = read_prompts(args.dataset, "train"), read_prompts(args.dataset, "eval")
    if not train:
        sys.exit("the dataset has no train prompts")
    held_out = (held_out or train)[: args.eval_prompts]
    teacher = TeacherClient(
        args.teacher_url, args.teacher, os.path.join(args.student, "tokenizer.json"), k=args.k
    )
    student = weights_from_onnx(args.student).float()
    optimizer = torch.optim.AdamW(student.parameters(), lr=args.lr)
    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, "distill-checkpoint.pt")
    first_step = 0
    if args.resume and os.path.exists(checkpoint):
        state = torch.load(checkpoint)
        student.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        first_step = state["step"]
        print(f"resumed at step {first_step}")

    def teach(prompt, seed):
        return teacher.sample(prompt, args.max_new_tokens, args.temperature, seed)

    started = time.time()
    done = first_step
    try:
        eval_samples = [teach(q, seed_of(args.seed, "eval", i)) for i, q in enumerate(held_out)]
        before = evaluate(student, eval_samples, args)
        print(f"eval divergence before: {before:.4f} on {len(eval_samples)} prompts", flush=True)
        for step in range(first_step, args.steps):
            rng = random.Random(seed_of(args.seed, "step", step))
            batch = [teach(q, seed_of(args.seed, step, j)) for j, q in enumerate(rng.sample(train, min(args.batch, len(train))))]
            losses = [l for l in (sample_loss(student, s, args) for s in batch) if l is not None]
            if not losses:
                continue
            loss = torch.stack(losses).mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            optimizer.step()
            done = step + 1
            print(f"step {done}/{args.steps} loss {loss.item():.4f}", flush=True)
            if (step + 1) % args.checkpoint_every == 0:
                torch.save({"model": student.state_dict(), "optimizer": optimizer.state_dict(), "step": step + 1}, checkpoint)
    except TeacherUnavailable as error:
        state = {"model": student.state_dict(), "optimizer": optimizer.state_dict(), "step": done}
        torch.save(state, checkpoint)
        sys.exit(f"stopped: {error}; rerun with --resume to continue from the checkpoint")
    after = evaluate(student, eval_samples, args)
    print(f"eval divergence after: {after:.4f} (was {before:.4f}) in {time.time() - started:.0f} s", flush=True)

    name, version = os.path.basename(os.path.dirname(os.path.abspath(args.out))), os.path.basename(args.out)
    digest = export_onnx(student, os.path.join(args.out, "model.onnx"))
    for file in ("tokenizer.json", "tokenizer_config.json"):
        if os.path.exists(os.path.join(args.student, file)):
            shutil.copy(os.path.join(args.student, file), os.path.join(args.out, file))
    lineage = {
        "dataset": {"name": manifest.get("dataset"), "version": manifest.get("version"), "contentDigest": manifest.get("contentDigest")},
        "teacher": {"model": args.teacher, "url": args.teacher_url},
        "student_init": {"folder": os.path.relpath(args.student), "digest": json.load(open(os.path.join(args.student, "flywheel.json"))).get("digest") if os.path.exists(os.path.join(args.student, "flywheel.json")) else None},
        "loss": {"beta": args.beta, "mode": args.mode, "k": args.k, "temperature": args.temperature},
        "seed": args.seed, "steps": args.steps, "batch": args.batch, "lr": args.lr,
        "eval_divergence": {"before": before, "after": after, "prompts": len(eval_samples)},
    }
    with open(os.path.join(args.student, "config.json")) as f:
        config = json.load(f)
    config["flywheel_lineage"] = lineage
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    size = os.path.getsize(os.path.join(args.out, "model.onnx"))
    with open(os.path.join(args.out, "flywheel.json"), "w") as f:
        json.dump({"name": name, "version": version, "format": "onnx", "layout": "optimum-decoder-with-past",
                   "digest": f"sha256:{digest}", "files": {"model.onnx": {"dtype": "float32", "opset": 14, "sha256": digest, "bytes": size}},
                   "lineage": lineage}, f, indent=2, sort_keys=True)
    if os.path.exists(checkpoint):
        os.remove(checkpoint)
    print(f"wrote {args.out} (model.onnx sha256 {digest})")
    if args.worker_url:
        request = urllib.request.Request(f"{args.worker_url.rstrip('/')}/v2/repository/models/{name}/load", data=b"{}", headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            print(f"worker load {name}: HTTP {response.status} {response.read().decode()[:200]}")


if __name__ == "__main__":
    main()
