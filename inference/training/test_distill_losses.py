"""Tests of distill_losses.py: python -m unittest inference/training/test_distill_losses.py"""

import math
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(__file__))
from distill_losses import (  # noqa: E402
    distill_loss,
    divergence,
    kl,
    log1mexp,
    student_logprobs,
    topk_cells,
)


def full_kl(p_log, q_log):
    p = p_log.double().exp()
    return (p * (p_log.double() - q_log.double())).sum(-1)


class DistillLossTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.V = 50
        self.teacher_logits = torch.randn(3, 7, self.V) * 3
        self.student_logits = torch.randn(3, 7, self.V) * 3
        self.teacher_lp = student_logprobs(self.teacher_logits)
        self.student_lp = student_logprobs(self.student_logits)

    def topk(self, k):
        lp, ids = torch.topk(self.teacher_lp, k, dim=-1)
        return lp, ids

    def test_full_vocabulary_is_exact(self):
        lp, ids = self.topk(self.V)
        exact = full_kl(self.teacher_lp, self.student_lp)
        for mode in ("renormalized", "partition"):
            p, q = topk_cells(lp, ids, self.student_lp, mode)
            torch.testing.assert_close(kl(p, q).double(), exact, atol=2e-4, rtol=1e-4)

    def test_partition_is_a_lower_bound_and_renormalized_is_not_tied_to_it(self):
        exact = full_kl(self.teacher_lp, self.student_lp)
        for k in (1, 5, 20):
            lp, ids = self.topk(k)
            p, q = topk_cells(lp, ids, self.student_lp, "partition")
            self.assertTrue(bool((kl(p, q).double() <= exact + 1e-4).all()), f"k={k}")

    def test_beta_ends_are_forward_and_reverse_kl(self):
        lp, ids = self.topk(10)
        p, q = topk_cells(lp, ids, self.student_lp, "partition")
        torch.testing.assert_close(divergence(p, q, 0.0), kl(p, q))
        torch.testing.assert_close(divergence(p, q, 1.0), kl(q, p))
        jsd = divergence(p, q, 0.5)
        self.assertTrue(bool((jsd >= -1e-6).all()))
        self.assertTrue(bool((jsd <= math.log(2) + 1e-5).all()))  # JSD is bounded by log 2

    def test_no_nan_when_top_k_holds_all_mass_or_tokens_have_none(self):
        # A peaked teacher: top-2 carries everything (logsumexp rounds to >= 0).
        lp = torch.tensor([[0.0, -200.0]])
        ids = torch.tensor([[3, 4]])
        logits = torch.zeros(1, 8, requires_grad=True)
        for mode in ("renormalized", "partition"):
            for beta in (0.0, 0.5, 1.0):
                loss = distill_loss(logits, lp, ids, beta=beta, mode=mode)
                loss.backward()
                self.assertTrue(math.isfinite(loss.item()), (mode, beta))
                self.assertTrue(bool(torch.isfinite(logits.grad).all()), (mode, beta))
                logits.grad = None
        # Tokens with exactly zero teacher probability (-inf) are masked, not smoothed.
        lp = torch.tensor([[math.log(0.5), math.log(0.5), -math.inf]])
        ids = torch.tensor([[0, 1, 2]])
        loss = distill_loss(torch.zeros(1, 4), lp, ids, beta=0.0, mode="partition")
        self.assertTrue(math.isfinite(loss.item()))

    def test_padding_cells_leave_the_top_k_set_with_finite_gradients(self):
        # Padding (id 0, -inf) must neither count the student's token 0 as a top-k cell nor
        # compare it against a teacher probability: the loss equals the unpadded one.
        lp = torch.tensor([[math.log(0.6), math.log(0.3)]])
        ids = torch.tensor([[2, 3]])
        padded_lp = torch.tensor([[math.log(0.6), math.log(0.3), -math.inf, -math.inf]])
        padded_ids = torch.tensor([[2, 3, 0, 0]])
        logits = torch.tensor([[2.0, -1.0, 0.5, 0.1, 0.0]])
        for mode in ("renormalized", "partition"):
            for beta in (0.0, 0.5, 1.0):
                ref = distill_loss(logits, lp, ids, beta=beta, mode=mode)
                x = logits.clone().requires_grad_(True)
                loss = distill_loss(x, padded_lp, padded_ids, beta=beta, mode=mode)
                loss.backward()
                torch.testing.assert_close(loss, ref, msg=f"{mode} {beta}")
                self.assertTrue(bool(torch.isfinite(x.grad).all()), (mode, beta))

    def test_log1mexp_matches_float64_at_both_ends(self):
        x = torch.tensor([-1e-9, -1e-4, -0.3, -0.7, -5.0, -50.0], dtype=torch.float32)
        expected = torch.log1p(-torch.exp(x.double()))
        torch.testing.assert_close(log1mexp(x).double(), expected, rtol=1e-4, atol=1e-6)
        self.assertEqual(log1mexp(torch.tensor([0.0, 1e-7])).tolist(), [-math.inf, -math.inf])

    def test_float32_log_softmax_of_extreme_logits(self):
        logits = torch.tensor([[1e4, -1e4, 0.0]], dtype=torch.bfloat16)
        lp = student_logprobs(logits)
        self.assertEqual(lp.dtype, torch.float32)
        self.assertTrue(bool(torch.isfinite(lp).all()))

    def test_masked_mean_and_training_lowers_the_divergence(self):
        lp, ids = self.topk(5)
        student = self.student_logits.clone().requires_grad_(True)
        mask = torch.ones(3, 7, dtype=torch.bool)
        mask[:, -2:] = False
        optimizer = torch.optim.Adam([student], lr=0.1)
        first = None
        for _ in range(100):
            loss = distill_loss(student, lp, ids, mask=mask, beta=1.0, mode="partition")
            first = first if first is not None else loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.assertLess(loss.item(), first * 0.2)
        print(f"reverse KL (top-5 partition): {first:.4f} -> {loss.item():.4f} after 100 Adam steps")


if __name__ == "__main__":
    unittest.main()
