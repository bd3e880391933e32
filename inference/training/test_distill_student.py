"""Tests of distill_student.py on a tiny random GPT (no teacher needed):
python -m unittest inference/training/test_distill_student.py"""

import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(__file__))
from distill_student import empty_penalty, kept_text, sample_student, sft_loss  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402


class FakeTokenizer:
    """Bytes as ids: enough to exercise prompt/target handling."""

    class Encoding:
        def __init__(self, ids):
            self.ids = ids

    def encode(self, text, add_special_tokens=False):
        return self.Encoding(list(text.encode()))


def tiny(seed=0):
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=256, n_layer=1, n_head=2, n_embd=16, head_dim=8, n_positions=64))


class StudentTest(unittest.TestCase):
    def test_samples_are_a_function_of_weights_prompt_and_seed(self):
        student = tiny()
        a = sample_student(student, [1, 2, 3], 10, 1.0, seed=11, eos_id=255)
        self.assertEqual(a, sample_student(student, [1, 2, 3], 10, 1.0, seed=11, eos_id=255))
        self.assertNotEqual(a, sample_student(student, [1, 2, 3], 10, 1.0, seed=12, eos_id=255))
        self.assertTrue(student.training)  # sampling leaves the training mode as it was
        # A fully peaked student at temperature ~0 picks its argmax.
        greedy = sample_student(student, [1, 2, 3], 4, 1e-9, seed=1, eos_id=255)
        self.assertEqual(greedy, sample_student(student, [1, 2, 3], 4, 1e-9, seed=2, eos_id=255))

    def test_sft_on_the_kept_text_lowers_its_cross_entropy(self):
        student = tiny(1)
        optimizer = torch.optim.Adam(student.parameters(), lr=1e-2)
        tokenizer = FakeTokenizer()
        first = None
        for _ in range(30):
            loss = sft_loss(student, tokenizer, "Thanks for the", " report.", max_tokens=16)
            first = first if first is not None else loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.assertLess(loss.item(), first * 0.5)
        self.assertIsNone(sft_loss(student, tokenizer, "Thanks", "", max_tokens=16))

    def test_sft_with_stop_teaches_to_end_where_the_user_stopped_taking_and_never_at_once(self):
        student = tiny(2)
        optimizer = torch.optim.Adam(student.parameters(), lr=1e-2)
        tokenizer = FakeTokenizer()
        stop = 255
        prompt, kept = "Thanks for the", " rep"

        def stop_prob(text):
            ids = list(text.encode())
            with torch.no_grad():
                logits, _ = student(torch.tensor([ids]), fast=True)
            return torch.softmax(logits[0, -1].float(), -1)[stop].item()

        before = stop_prob(prompt + kept)
        for _ in range(40):
            loss = sft_loss(student, tokenizer, prompt, kept, max_tokens=16, stop_id=stop)
            loss = loss + empty_penalty(student, tokenizer, prompt, stop, room=16)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.assertGreater(stop_prob(prompt + kept), 0.5)
        self.assertGreater(stop_prob(prompt + kept), 10 * before)
        self.assertLess(stop_prob(prompt), 0.05)
        # A kept text that fills max_tokens gets no stop (the suggestion was cut, not ended).
        full = sft_loss(student, tokenizer, prompt, kept, max_tokens=4, stop_id=stop)
        plain = sft_loss(student, tokenizer, prompt, kept, max_tokens=4)
        self.assertAlmostEqual(full.item(), plain.item(), places=6)

    def test_kept_text_per_trl_format(self):
        self.assertEqual(kept_text({"prompt": "a", "completion": "b"}), "b")
        self.assertEqual(kept_text({"prompt": "a", "chosen": "c", "rejected": "d"}), "c")
        self.assertEqual(kept_text({"prompt": "a", "completion": "b", "label": True}), "b")
        self.assertIsNone(kept_text({"prompt": "a", "completion": "b", "label": False}))
        self.assertIsNone(kept_text({"prompt": "a"}))


if __name__ == "__main__":
    unittest.main()
