"""The student's side of distillation: its own seeded samples (on-policy), the divergence on one
teacher-scored sample, supervised fine-tuning on the text users kept, and the eval figure.

Sampling is a pure function of (weights, prompt, seed): a torch.Generator seeded per sample, the
log-softmax in float32, so a resumed run draws the same continuations as an uninterrupted one.
"""

import hashlib
import json
import os

import torch

from distill_losses import distill_loss, log1mexp, student_logprobs


def seed_of(*parts):
    return int(hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def read_rows(folder, split):
    path = os.path.join(folder, f"{split}.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def kept_text(row):
    """The text the user kept for this prompt, in each TRL format that has one (else None)."""
    if "chosen" in row:  # preference: what the user wrote or kept
        return row["chosen"] or None
    if "completion" in row and row.get("label", True) is True:  # SFT, or a desirable KTO row
        return row["completion"] or None
    return None


def fit_prompt(student, prompt_ids, room):
    """The prompt's last tokens, leaving `room` positions for the continuation."""
    return list(prompt_ids)[-max(1, student.cfg.n_positions - room):]


@torch.no_grad()
def sample_student(student, prompt_ids, max_new_tokens, temperature, seed, eos_id):
    """A continuation drawn from the current student (no KV cache: the models are small)."""
    was_training = student.training
    student.eval()
    generator = torch.Generator().manual_seed(seed)
    ids = list(prompt_ids)
    out = []
    for _ in range(max_new_tokens):
        logits, _ = student(torch.tensor([ids]), fast=True)
        logprobs = student_logprobs(logits[0, -1] / max(temperature, 1e-6))
        token = int(torch.multinomial(torch.exp(logprobs), 1, generator=generator))
        if token == eos_id:
            break
        ids.append(token)
        out.append(token)
    student.train(was_training)
    return out


def sample_loss(student, sample, beta, mode):
    """Divergence over the completion positions of one teacher-scored sample (None when empty)."""
    if not sample.ids:
        return None
    prompt = fit_prompt(student, sample.prompt_ids, len(sample.ids))
    logits, _ = student(torch.tensor([prompt + sample.ids]), fast=True)
    # Position i predicts token i + 1: the completion's tokens are predicted from len(prompt) - 1 on.
    start = len(prompt) - 1
    rows = logits[0, start : start + len(sample.ids)]
    return distill_loss(
        rows,
        torch.tensor(sample.topk_logprobs),
        torch.tensor(sample.topk_ids),
        beta=beta,
        mode=mode,
    )


def sft_loss(student, tokenizer, prompt, completion, max_tokens, stop_id=None):
    """Cross-entropy (float32 log-softmax) on the kept text's tokens given the prompt. With
    `stop_id` the kept text is followed by that token (end of text) when it fits: the user took
    the suggestion up to there and no further, so the suggestion should have ended there."""
    target = tokenizer.encode(completion, add_special_tokens=False).ids
    if stop_id is not None and 0 < len(target) < max_tokens:
        target = target + [stop_id]
    target = target[:max_tokens]
    if not target:
        return None
    prompt_ids = fit_prompt(student, tokenizer.encode(prompt, add_special_tokens=False).ids, len(target))
    logits, _ = student(torch.tensor([prompt_ids + target]), fast=True)
    start = len(prompt_ids) - 1
    logprobs = student_logprobs(logits[0, start : start + len(target)])
    return -logprobs.gather(-1, torch.tensor(target).unsqueeze(-1)).mean()


def empty_penalty(student, tokenizer, prompt, stop_id, room):
    """-log(1 - p(stop | prompt)): a suggestion that stops before its first token is empty, which
    the product treats as a failed tier (it falls back), so learning where to stop must not teach
    stopping at once."""
    prompt_ids = fit_prompt(student, tokenizer.encode(prompt, add_special_tokens=False).ids, room)
    if not prompt_ids:
        return None
    logits, _ = student(torch.tensor([prompt_ids]), fast=True)
    return -log1mexp(student_logprobs(logits[0, -1])[stop_id])


def evaluate(student, samples, beta, mode):
    student.eval()
    with torch.no_grad():
        losses = [l.item() for l in (sample_loss(student, s, beta, mode) for s in samples) if l is not None]
    student.train()
    return sum(losses) / max(1, len(losses))
