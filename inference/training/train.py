"""Training loop shared by the CPU build (build_demo_models.py) and the GPU run (gpu_train.py).

Each batch mixes language-model windows (random 'seq'-token slices of lm_train) with rewrite
examples (rewrites.py; one per row, right-padded, loss on the answer tokens only). The loss is
(1 - w) * mean LM token loss + w * mean rewrite-answer token loss, w = rw_loss_weight.
With a teacher, each token's loss is alpha * cross-entropy + (1 - alpha) * KL(teacher || student)
(forward KL over the full vocabulary at temperature 1, in float32): the student is distilled.
Matmuls run in bfloat16 autocast (CPU or CUDA) with fp32 master weights; the best
checkpoint by validation loss is kept (the corpus is small: the models overfit if left alone).
"""
from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from model import GPT, GPTConfig


def lr_at(step: int, steps: int, t: dict) -> float:
    if step < t["warmup"]:
        return t["lr"] * (step + 1) / t["warmup"]
    progress = min(1.0, (step - t["warmup"]) / max(1, steps - t["warmup"]))
    return t["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def rewrite_rows(arrays: dict, split: str, seq: int, eot: int):
    """[N, seq+1] token rows (right-padded with eot) and [N, seq] answer masks."""
    key = f"rw_{split}_tokens"
    if key not in arrays or len(arrays[f"rw_{split}_offsets"]) < 2:
        return None, None
    toks, offs, ans = arrays[key].astype(np.int64), arrays[f"rw_{split}_offsets"], arrays[f"rw_{split}_answer"]
    n = len(offs) - 1
    rows = np.full((n, seq + 1), eot, dtype=np.int64)
    mask = np.zeros((n, seq), dtype=bool)
    for i in range(n):
        ex = toks[offs[i]:offs[i + 1]][: seq + 1]
        rows[i, :len(ex)] = ex
        # position t predicts token t+1: the answer tokens are ans[i] .. len(ex)-1
        mask[i, max(0, ans[i] - 1):len(ex) - 1] = True
    return torch.from_numpy(rows), torch.from_numpy(mask)


class Batches:
    def __init__(self, arrays: dict, t: dict, eot: int, device: str, seed: int):
        self.seq, self.batch = t["seq"], t["batch"]
        self.lm = torch.from_numpy(arrays["lm_train"].astype(np.int64)).to(device)
        rows, mask = rewrite_rows(arrays, "train", self.seq, eot)
        self.n_rw = 0 if rows is None else max(1, round(self.batch * t["rw_frac"]))
        if rows is not None:
            self.rw_rows, self.rw_mask = rows.to(device), mask.to(device)
        self.gen = torch.Generator(device=device).manual_seed(seed)
        self.device = device
        self.offsets = torch.arange(self.seq + 1, device=device)

    def next(self):
        n_lm = self.batch - self.n_rw
        starts = torch.randint(0, len(self.lm) - self.seq - 1, (n_lm,), generator=self.gen, device=self.device)
        lm = self.lm[starts.unsqueeze(1) + self.offsets]
        if self.n_rw == 0:
            return lm, None
        idx = torch.randint(0, len(self.rw_rows), (self.n_rw,), generator=self.gen, device=self.device)
        return lm, (self.rw_rows[idx], self.rw_mask[idx])


def _autocast(device: str):
    return torch.autocast("cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16)


def _token_losses(logits: torch.Tensor, y: torch.Tensor, teacher_logits, alpha: float) -> torch.Tensor:
    """Per-token loss [B, S] in float32."""
    logits = logits.float()
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none").view(y.shape)
    if teacher_logits is None:
        return ce
    logq = F.log_softmax(logits, dim=-1)
    logp = F.log_softmax(teacher_logits.float(), dim=-1)
    kl = (logp.exp() * (logp - logq)).sum(-1)
    return alpha * ce + (1 - alpha) * kl


def batch_loss(model: GPT, batch, t: dict, device: str, teacher: GPT | None = None):
    lm, rw = batch
    rows = lm if rw is None else torch.cat([lm, rw[0]], 0)
    x, y = rows[:, :-1], rows[:, 1:]
    with _autocast(device):
        logits, _ = model(x, fast=True)
        tlogits = None
        if teacher is not None:
            with torch.no_grad():
                tlogits, _ = teacher(x, fast=True)
    losses = _token_losses(logits, y, tlogits, t.get("alpha", 1.0))
    n_lm = lm.shape[0]
    lm_loss = losses[:n_lm].mean()
    if rw is None:
        return lm_loss, lm_loss.detach(), None
    m = rw[1].float()
    rw_loss = (losses[n_lm:] * m).sum() / m.sum().clamp(min=1)
    w = t["rw_loss_weight"]
    return (1 - w) * lm_loss + w * rw_loss, lm_loss.detach(), rw_loss.detach()


@torch.no_grad()
def evaluate(model: GPT, arrays: dict, split: str, seq: int, eot: int, device: str,
             max_windows: int = 256, batch: int = 32) -> dict:
    """Mean token loss of the LM stream of `split` (non-overlapping windows) and of the rewrite
    answers of `split` (when present)."""
    was = model.training
    model.eval()
    out = {}
    lm = arrays[f"lm_{split}"].astype(np.int64)
    n = (len(lm) - 1) // seq
    idx = np.linspace(0, n - 1, num=min(n, max_windows)).round().astype(np.int64) if n > 0 else []
    tot, cnt = 0.0, 0
    for i in range(0, len(idx), batch):
        rows = torch.from_numpy(np.stack([lm[j * seq:j * seq + seq + 1] for j in idx[i:i + batch]])).to(device)
        with _autocast(device):
            logits, _ = model(rows[:, :-1], fast=True)
        ce = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1), reduction="sum")
        tot += ce.item()
        cnt += rows[:, 1:].numel()
    out["lm_loss"] = tot / max(1, cnt)
    rows, mask = rewrite_rows(arrays, split, seq, eot)
    if rows is not None:
        sel = np.linspace(0, len(rows) - 1, num=min(len(rows), max_windows)).round().astype(np.int64)
        tot, cnt = 0.0, 0.0
        for i in range(0, len(sel), batch):
            r = rows[sel[i:i + batch]].to(device)
            m = mask[sel[i:i + batch]].to(device).float()
            with _autocast(device):
                logits, _ = model(r[:, :-1], fast=True)
            ce = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), r[:, 1:].reshape(-1),
                                 reduction="none").view(m.shape)
            tot += (ce * m).sum().item()
            cnt += m.sum().item()
        out["rw_loss"] = tot / max(1.0, cnt)
    model.train(was)
    return out


def score(ev: dict, t: dict) -> float:
    w = t["rw_loss_weight"]
    return (1 - w) * ev["lm_loss"] + w * ev.get("rw_loss", ev["lm_loss"])


def train(name: str, arch: dict, t: dict, arrays: dict, eot: int, device: str = "cpu",
          teacher: GPT | None = None, time_budget: float | None = None, log=print) -> tuple[GPT, dict]:
    torch.manual_seed(t["seed"])
    cfg = GPTConfig(vocab_size=t["vocab_size"], **arch)
    model = GPT(cfg).to(device)
    if teacher is not None:
        teacher = teacher.to(device).eval()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "wpe" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "wpe" not in n)]
    kw = {"fused": True} if device.startswith("cuda") else {}
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": t["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=t["lr"], betas=(0.9, 0.95), **kw)
    batches = Batches(arrays, t, eot, device, t["seed"])
    steps = t["steps"]
    log(f"{name}: {model.num_params():,} parameters, up to {steps} steps of {t['batch']}x{t['seq']} tokens"
        f" ({batches.n_rw} rewrite rows), {'distilled from the teacher' if teacher is not None else 'from scratch'}"
        f", device {device}")
    start = time.time()
    best, best_state, curve = float("inf"), None, []
    ema_lm = ema_rw = None
    model.train()
    step = 0
    while step < steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, t)
        loss, lm_l, rw_l = batch_loss(model, batches.next(), t, device, teacher)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if time_budget is not None and step in (20, 40):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if step == 20:  # the first steps include start-up costs: time steps 20..40
                t20 = time.time()
            else:
                per = (time.time() - t20) / 20
                fit = int(40 + (time_budget - (time.time() - start)) / (per * 1.12))
                if fit < steps:
                    log(f"{name}: {per * 1000:.1f} ms/step: {steps} steps do not fit {time_budget:.0f} s, running {fit}")
                    steps = max(fit, t["warmup"] + 1)
        if step % t["eval_every"] == 0 or step == steps:
            lm_v, rw_v = lm_l.item(), (rw_l.item() if rw_l is not None else float("nan"))
            ema_lm, ema_rw = lm_v, rw_v
            ev = evaluate(model, arrays, "validation", t["seq"], eot, device, max_windows=t.get("eval_windows", 256))
            s = score(ev, t)
            curve.append({"step": step, "seconds": round(time.time() - start, 1), "train_lm_loss": round(lm_v, 4),
                          "train_rw_loss": round(rw_v, 4), "val_lm_loss": round(ev["lm_loss"], 4),
                          "val_rw_loss": round(ev.get("rw_loss", float("nan")), 4), "lr": lr_at(step - 1, steps, t)})
            if s < best:
                best = s
                best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
                curve[-1]["best"] = True
            log(f"{name}: step {step}/{steps} train lm {lm_v:.3f} rw {rw_v:.3f} | val lm {ev['lm_loss']:.3f} "
                f"rw {ev.get('rw_loss', float('nan')):.3f}{' *' if curve[-1].get('best') else ''} "
                f"| {time.time() - start:.0f} s")
    seconds = time.time() - start
    model.load_state_dict(best_state)
    best_point = next(c for c in reversed(curve) if c.get("best"))
    info = {"seed": t["seed"], "steps_run": step, "best_step": best_point["step"], "batch_size": t["batch"],
            "sequence_length": t["seq"], "rewrite_rows_per_batch": batches.n_rw,
            "tokens_seen": step * t["batch"] * t["seq"], "tokens_seen_at_best": best_point["step"] * t["batch"] * t["seq"],
            "optimizer": "AdamW(0.9, 0.95)", "learning_rate": t["lr"], "warmup_steps": t["warmup"],
            "schedule": "linear warmup, cosine to 10%", "weight_decay": t["weight_decay"], "dropout": arch.get("dropout", 0.0),
            "rw_loss_weight": t["rw_loss_weight"], "precision": "bfloat16 autocast, fp32 master weights",
            "objective": ("cross-entropy" if teacher is None else
                          f"{t.get('alpha', 1.0)} * cross-entropy + {1 - t.get('alpha', 1.0):.2f} * KL(teacher || student), T=1"),
            "device": device, "seconds": round(seconds, 1),
            "val_lm_loss": best_point["val_lm_loss"], "val_rw_loss": best_point["val_rw_loss"],
            "train_lm_loss_at_best": best_point["train_lm_loss"], "curve": curve}
    return model.cpu().eval(), info
