"""Distil a student from a teacher served over the OpenAI-compatible API, on a dataset version's
prompts, and export it in the demo models' layout with its lineage.

  python inference/training/distill.py --dataset <export folder> --teacher-url http://127.0.0.1:8001/v1 \
      --teacher flywheel-teacher --student inference/models/flywheel-student/1 \
      --out <repository>/<name>/<version> [--worker-url http://127.0.0.1:8001] [--steps 50] ...

Each step draws a batch of train prompts (seeded by step). With probability --on-policy (GKD's
lambda, seeded by step) the batch is on-policy: the student samples continuations itself and the
teacher scores them through the API (echo + logprobs, max_tokens 0); otherwise the teacher samples
them with its top-k logprobs (distill_teacher.py). The student is trained on those positions with
distill_losses.py (beta = 1: reverse KL, 0: forward KL, between: GKD's generalized JSD;
--mode partition keeps the mass beyond the top-k in a rest cell), plus --sft-weight times the
cross-entropy on the text users kept (the dataset's completion / chosen column). Before and after
training the mean divergence on the eval split's prompts is measured on the same teacher samples.
The student starts from the exact weights of its model.onnx (hf.weights_from_onnx). A checkpoint
is written every --checkpoint-every steps; after a teacher outage (TeacherUnavailable: the run
stops with the reason, exit code 3) --resume continues and ends with the same weights as an
uninterrupted run. With --worker-url the worker is asked to load the new folder (KServe v2
repository API); `npm run distill` then registers it in the app with its lineage.
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

# MKL (torch's CPU BLAS here) picks kernels by the alignment of each buffer unless conditional
# numerical reproducibility is on: two runs on the same inputs then ended 1e-8..3e-6 apart (60 steps
# × 16, same teacher answers). Strict CNR makes the same machine give the same weights. Read by MKL
# when torch loads it, so before the import.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from distill_student import (  # noqa: E402
    empty_penalty,
    evaluate,
    fit_prompt,
    kept_text,
    read_rows,
    sample_loss,
    sample_student,
    seed_of,
    sft_loss,
)
from distill_teacher import TeacherClient, TeacherUnavailable  # noqa: E402
from export import export_onnx  # noqa: E402
from hf import weights_from_onnx  # noqa: E402


def teacher_digest(args):
    """The teacher's artifact digest: given, or from an in-repo worker's /health (else None)."""
    if args.teacher_digest:
        return args.teacher_digest
    base = args.teacher_url.rstrip("/")
    base = base[: -len("/v1")] if base.endswith("/v1") else base
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=10) as response:
            models = json.loads(response.read()).get("models", [])
    except (OSError, ValueError):
        return None
    exact = [m for m in models if m.get("id") == args.teacher]
    # An alias (`flywheel-teacher`) answers with its highest ready version, as the worker routes it.
    versions = [m for m in models if str(m.get("id", "")).startswith(args.teacher + "/") and m.get("ready")]
    versions.sort(key=lambda m: [int(x) if x.isdigit() else 0 for x in m["id"].rsplit("/", 1)[1].split(".")])
    found = exact or versions[-1:]
    return found[0].get("digest") if found else None


def answers_digest(answers):
    """SHA-256 over the teacher's answers in request order-free form: with the same answers and
    options, the same ONNX digest comes out (on the same machine)."""
    text = "".join(f"{k} {json.dumps(answers[k], sort_keys=True)}\n" for k in sorted(answers))
    return hashlib.sha256(text.encode()).hexdigest()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="a dataset version's export folder")
    p.add_argument("--dataset-id", help="the dataset version's id in the app (recorded in the lineage)")
    p.add_argument("--teacher-url", required=True)
    p.add_argument("--teacher", required=True)
    p.add_argument("--teacher-digest", help="recorded in the lineage (default: the worker's /health)")
    p.add_argument("--teacher-retries", type=int, default=3)
    p.add_argument("--teacher-timeout", type=float, default=60.0)
    p.add_argument("--teacher-answers", help="JSONL of the teacher's answers to keep and replay "
                   "(default: in --out during the run, removed at the end)")
    p.add_argument("--teacher-answers-dir", help="a folder shared across runs (e.g. node_modules/.cache/"
                   "flywheel-teacher-answers): answers go to <teacher digest>.jsonl there, so a second run with "
                   "the same requests replays the first run's answers and gets the same weights")
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
    p.add_argument("--on-policy", type=float, default=0.0, help="share of on-policy batches (GKD's lambda), 0..1")
    p.add_argument("--sft-weight", type=float, default=0.0, help="weight of cross-entropy on the text users kept")
    p.add_argument("--sft-stop", action="store_true", help="end each kept text with <|endoftext|> in the "
                   "cross-entropy: users took the suggestion up to there, so it should have stopped there")
    p.add_argument("--no-empty-weight", type=float, default=1.0, help="with --sft-stop: weight of "
                   "-log(1 - p(stop)) right after each prompt (an empty suggestion makes the product fall back)")
    p.add_argument("--kd-weight", type=float, default=1.0, help="weight of the divergence from the teacher "
                   "(0: supervised fine-tuning only; the teacher still scores the eval prompts)")
    p.add_argument("--lr", type=float, default=3e-5)
    p.add_argument("--warmup", type=int, default=0, help="steps of linear learning-rate warmup (Adam's "
                   "first steps move every weight by about lr, a large jump for an already trained student)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=10)
    p.add_argument("--resume", action="store_true")
    args = p.parse_args()
    if not 0.0 <= args.on_policy <= 1.0:
        p.error("--on-policy must lie in [0, 1]")
    if args.sft_weight < 0 or args.kd_weight < 0:
        p.error("--sft-weight and --kd-weight must not be negative")
    if args.sft_weight == 0 and args.kd_weight == 0:
        p.error("--sft-weight and --kd-weight are both 0: nothing to train on")
    return args


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    with open(os.path.join(args.dataset, "manifest.json")) as f:
        manifest = json.load(f)
    train_rows = read_rows(args.dataset, "train")
    train = [r["prompt"] for r in train_rows]
    held_out = [r["prompt"] for r in read_rows(args.dataset, "eval")]
    if not train:
        sys.exit("the dataset has no train prompts")
    kept = [(r["prompt"], kept_text(r)) for r in train_rows if kept_text(r)]
    if args.sft_weight > 0 and not kept:
        sys.exit(
            f"--sft-weight needs rows with the text users kept (prompt-completion or preference); "
            f"this dataset is {manifest.get('format')}"
        )
    held_out = (held_out or train)[: args.eval_prompts]
    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, "distill-checkpoint.pt")
    answers_file = args.teacher_answers or os.path.join(args.out, "distill-teacher-answers.jsonl")
    keep_answers = bool(args.teacher_answers)
    if args.teacher_answers_dir and not args.teacher_answers:
        digest = teacher_digest(args)
        if digest:
            # Keyed by the teacher's weights: another teacher never replays these answers.
            os.makedirs(args.teacher_answers_dir, exist_ok=True)
            answers_file = os.path.join(args.teacher_answers_dir, digest.replace(":", "-") + ".jsonl")
            keep_answers = True
        else:
            print("the teacher's digest is unknown: its answers are not shared across runs", file=sys.stderr)
    if not args.resume:
        for stale in (checkpoint, *([] if keep_answers else [answers_file])):
            if os.path.exists(stale):
                os.remove(stale)
    teacher = TeacherClient(
        args.teacher_url, args.teacher, os.path.join(args.student, "tokenizer.json"), k=args.k,
        timeout=args.teacher_timeout, retries=args.teacher_retries, answers=answers_file,
    )
    eos_id = teacher.tokenizer.token_to_id("<|endoftext|>")
    student = weights_from_onnx(args.student).float()
    optimizer = torch.optim.AdamW(student.parameters(), lr=args.lr)
    first_step, before, on_before = 0, None, None
    counts = {"on_policy": 0, "teacher_sampled": 0}
    if args.resume and os.path.exists(checkpoint):
        state = torch.load(checkpoint)
        student.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        first_step, before, counts = state["step"], state["before"], state["counts"]
        on_before = state["on_before"]
        print(f"resumed at step {first_step}", flush=True)

    def teach(prompt, seed):
        # The prompt's tail that leaves room for the continuation in the student's context.
        room = student.cfg.n_positions - args.max_new_tokens
        return teacher.sample(prompt, args.max_new_tokens, args.temperature, seed, max_prompt_tokens=room)

    def on_policy(prompt, seed):
        prompt_ids = fit_prompt(student, teacher.tokenizer.encode(prompt, add_special_tokens=False).ids, args.max_new_tokens)
        ids = sample_student(student, prompt_ids, args.max_new_tokens, args.temperature, seed, eos_id)
        return teacher.score(prompt_ids, ids) if ids else None

    def evaluate_own():
        own = [on_policy(q, seed_of(args.seed, "eval-student", i)) for i, q in enumerate(held_out)]
        return evaluate(student, [s for s in own if s], args.beta, args.mode)

    def save(step):
        torch.save({"model": student.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                    "before": before, "on_before": on_before, "counts": counts,
                    "rng": torch.get_rng_state()}, checkpoint)

    started = time.time()
    done = first_step
    try:
        eval_samples = [teach(q, seed_of(args.seed, "eval", i)) for i, q in enumerate(held_out)]
        if before is None:
            before = evaluate(student, eval_samples, args.beta, args.mode)
            # On its own samples too (what on-policy training optimizes), when it is on.
            on_before = evaluate_own() if args.on_policy > 0 else None
        print(f"eval divergence before: {before:.4f} on {len(eval_samples)} prompts", flush=True)
        for step in range(first_step, args.steps):
            rng = random.Random(seed_of(args.seed, "step", step))
            prompts = rng.sample(train, min(args.batch, len(train)))
            policy = rng.random() < args.on_policy
            if args.kd_weight == 0:
                batch = []
            elif policy:
                batch = [on_policy(q, seed_of(args.seed, "student", step, j)) for j, q in enumerate(prompts)]
            else:
                batch = [teach(q, seed_of(args.seed, step, j)) for j, q in enumerate(prompts)]
            losses = [l for l in (sample_loss(student, s, args.beta, args.mode) for s in batch if s) if l is not None]
            loss = args.kd_weight * torch.stack(losses).mean() if losses else None
            if args.sft_weight > 0:
                rows = rng.sample(kept, min(args.batch, len(kept)))
                stop_id = eos_id if args.sft_stop else None
                ce = [c for c in (sft_loss(student, teacher.tokenizer, q, t, args.max_new_tokens, stop_id) for q, t in rows) if c is not None]
                if ce:
                    sft = args.sft_weight * torch.stack(ce).mean()
                    loss = sft if loss is None else loss + sft
                if args.sft_stop and args.no_empty_weight > 0:
                    # Never stop before the first token, on any prompt (taken or not).
                    starts = rng.sample(train, min(args.batch, len(train)))
                    ne = [c for c in (empty_penalty(student, teacher.tokenizer, q, eos_id, args.max_new_tokens) for q in starts) if c is not None]
                    if ne:
                        loss = loss + args.no_empty_weight * torch.stack(ne).mean()
            if loss is None:
                done = step + 1
                continue
            # A function of the step alone, so a resumed run follows the same schedule.
            for group in optimizer.param_groups:
                group["lr"] = args.lr * min(1.0, (step + 1) / max(1, args.warmup))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            optimizer.step()
            done = step + 1
            if batch:
                counts["on_policy" if policy else "teacher_sampled"] += 1
            print(f"step {done}/{args.steps} {'on-policy' if policy else 'teacher'} loss {loss.item():.4f}", flush=True)
            if done % args.checkpoint_every == 0:
                save(done)
    except TeacherUnavailable as error:
        # Nothing of the failed step was applied: the checkpoint holds exactly `done` steps.
        if before is not None:
            save(done)
        print(f"stopped after step {done}: {error}; rerun with --resume to continue from the checkpoint", file=sys.stderr, flush=True)
        sys.exit(3)
    try:
        after = evaluate(student, eval_samples, args.beta, args.mode)
        on_after = evaluate_own() if args.on_policy > 0 else None
    except TeacherUnavailable as error:
        save(done)
        print(f"stopped after step {done}: {error}; rerun with --resume to continue from the checkpoint", file=sys.stderr, flush=True)
        sys.exit(3)
    print(f"eval divergence after: {after:.4f} (was {before:.4f}) in {time.time() - started:.0f} s", flush=True)
    if on_after is not None:
        print(f"eval divergence on the student's own samples after: {on_after:.4f} (was {on_before:.4f})", flush=True)

    name, version = os.path.basename(os.path.dirname(os.path.abspath(args.out))), os.path.basename(args.out)
    digest = export_onnx(student, os.path.join(args.out, "model.onnx"))
    for file in ("tokenizer.json", "tokenizer_config.json"):
        if os.path.exists(os.path.join(args.student, file)):
            shutil.copy(os.path.join(args.student, file), os.path.join(args.out, file))
    student_meta = os.path.join(args.student, "flywheel.json")
    lineage = {
        "dataset": {"id": args.dataset_id, "name": manifest.get("dataset"), "version": manifest.get("version"),
                    "contentDigest": manifest.get("contentDigest")},
        "teacher": {"model": args.teacher, "url": args.teacher_url, "digest": teacher_digest(args)},
        "student_init": {"model": "/".join(os.path.abspath(args.student).rstrip(os.sep).split(os.sep)[-2:]),
                         "folder": os.path.relpath(args.student),
                         "digest": json.load(open(student_meta)).get("digest") if os.path.exists(student_meta) else None},
        "loss": {"beta": args.beta, "mode": args.mode, "k": args.k, "temperature": args.temperature,
                 "kd_weight": args.kd_weight, "sft_weight": args.sft_weight, "sft_stop": args.sft_stop,
                 "no_empty_weight": args.no_empty_weight if args.sft_stop else 0},
        "on_policy": args.on_policy, "batches": counts,
        "seed": args.seed, "steps": args.steps, "batch": args.batch, "lr": args.lr, "warmup": args.warmup,
        "max_new_tokens": args.max_new_tokens,
        "eval_divergence": {"before": before, "after": after, "prompts": len(eval_samples),
                            "on_policy_before": on_before, "on_policy_after": on_after},
        "teacher_answers": {"requests": len(teacher.answers), "sha256": answers_digest(teacher.answers)},
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
    for done_with in (checkpoint, *([] if keep_answers else [answers_file])):
        if os.path.exists(done_with):
            os.remove(done_with)
    print(f"wrote {args.out} (model.onnx sha256 {digest})", flush=True)
    if args.worker_url:
        request = urllib.request.Request(f"{args.worker_url.rstrip('/')}/v2/repository/models/{name}/load", data=b"{}", headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            print(f"worker load {name}: HTTP {response.status} {response.read().decode()[:200]}", flush=True)


if __name__ == "__main__":
    main()
