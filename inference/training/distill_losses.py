"""Token-level distillation losses against a teacher known only by its top-k log-probabilities.

A teacher behind an OpenAI-compatible API returns, per position, the log-probabilities of its k
most likely tokens (`top_logprobs`, k <= 20). The student has full logits. Two ways to compare them
(see ../shared/notes/distillation.md, "A teacher behind an API"):

- mode="renormalized": both distributions restricted to the teacher's top-k set K and renormalized
  there. Common, but biased when the teacher's tail is heavy.
- mode="partition": K plus one "rest" cell R = V \\ K, with p_R = 1 - sum_K p and q_R likewise.
  Exact on that partition and a lower bound of the full-vocabulary divergence (data processing).

Divergences follow TRL's GKD `generalized_jsd_loss`: beta = 0 is forward KL(teacher || student),
beta = 1 is reverse KL(student || teacher) (mode-seeking), 0 < beta < 1 the generalized JSD with
the mixture beta * teacher + (1 - beta) * student.

Numerics: log-softmax in float32 (never log(softmax)); the rest cell via log1mexp of a logsumexp;
cells with zero probability are masked (0 * log 0 = 0) rather than smoothed with an epsilon, and
log-probabilities are clamped at float32's smallest normal so no log(0) reaches a product.
"""

import math

import torch

# log of float32's smallest normal number: the floor for a log-probability that must stay finite.
LOG_TINY = math.log(torch.finfo(torch.float32).tiny)


def student_logprobs(logits: torch.Tensor) -> torch.Tensor:
    """Full-vocabulary log-probabilities in float32, whatever the logits' dtype (bf16 autocast)."""
    return torch.log_softmax(logits.float(), dim=-1)


def log1mexp(x: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(x)) for x <= 0, accurate at both ends (Maechler 2012); -inf where x >= 0."""
    x = torch.clamp(x, max=0.0)
    near_zero = x > -math.log(2.0)
    # Each branch is evaluated where it is accurate; the other side gets a harmless placeholder.
    a = torch.log(-torch.expm1(torch.where(near_zero, x, torch.full_like(x, -1.0))))
    b = torch.log1p(-torch.exp(torch.where(near_zero, torch.full_like(x, -1.0), x)))
    return torch.where(near_zero, a, b)


def topk_cells(teacher_topk_lp, teacher_topk_ids, student_lp, mode="renormalized"):
    """Teacher and student log-probabilities over the cells both are compared on.

    teacher_topk_lp: [..., k] log-probabilities (may hold -inf for tokens with no mass).
    teacher_topk_ids: [..., k] token ids. student_lp: [..., V] from student_logprobs.
    Returns (p_log, q_log), each [..., k] (renormalized) or [..., k + 1] (partition).
    """
    p = teacher_topk_lp.float()
    # A -inf teacher cell is padding (fewer than k usable entries) or a token the teacher gives no
    # mass: it leaves the top-k set, so the student's mass there is counted in the rest cell
    # (never twice, never against a made-up teacher probability).
    known = torch.isfinite(p)
    q = torch.gather(student_lp, -1, teacher_topk_ids.long())
    q = torch.where(known, q, torch.full_like(q, -math.inf))
    if mode == "renormalized":
        return p - torch.logsumexp(p, -1, keepdim=True), q - torch.logsumexp(q, -1, keepdim=True)
    if mode != "partition":
        raise ValueError(f"mode must be 'renormalized' or 'partition', not {mode!r}")
    # The teacher's top-k may carry all the mass by rounding (logsumexp >= 0): its rest is empty.
    p_rest = log1mexp(torch.logsumexp(p, -1, keepdim=True))
    q_rest = log1mexp(torch.logsumexp(q, -1, keepdim=True))
    return torch.cat([p, p_rest], -1), torch.cat([q, q_rest], -1)


def kl(a_log: torch.Tensor, b_log: torch.Tensor) -> torch.Tensor:
    """KL(a || b) over the last axis; cells where a has no mass contribute exactly 0."""
    live = a_log > -math.inf
    # Dead cells get finite placeholders before any product, so no 0 * inf reaches a gradient.
    a_safe = torch.where(live, a_log, torch.zeros_like(a_log))
    b_safe = torch.where(live, torch.clamp(b_log, min=LOG_TINY), torch.zeros_like(b_log))
    return torch.where(live, torch.exp(a_safe) * (a_safe - b_safe), torch.zeros_like(a_log)).sum(-1)


def divergence(p_log: torch.Tensor, q_log: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-position divergence between teacher p and student q (both log, same cells)."""
    if not 0.0 <= beta <= 1.0:
        raise ValueError("beta must lie in [0, 1]")
    if beta == 0.0:
        return kl(p_log, q_log)
    if beta == 1.0:
        return kl(q_log, p_log)
    live = (p_log > -math.inf) | (q_log > -math.inf)
    mixed = torch.stack([p_log + math.log(beta), q_log + math.log(1.0 - beta)])
    # logsumexp of two -inf has a NaN gradient: cells where both are empty stay out of it.
    safe = torch.where(live, mixed, torch.zeros_like(mixed))
    m_log = torch.where(live, torch.logsumexp(safe, dim=0), torch.full_like(p_log, -math.inf))
    return beta * kl(p_log, m_log) + (1.0 - beta) * kl(q_log, m_log)


def distill_loss(
    student_logits, teacher_topk_lp, teacher_topk_ids, mask=None, beta=0.5, mode="renormalized"
):
    """Mean divergence over the positions where mask is true (all when mask is None)."""
    p_log, q_log = topk_cells(teacher_topk_lp, teacher_topk_ids, student_logprobs(student_logits), mode)
    per_position = divergence(p_log, q_log, beta)
    if mask is None:
        return per_position.mean()
    mask = mask.to(per_position.dtype)
    return (per_position * mask).sum() / mask.sum().clamp(min=1.0)
