"""Tests of distill_teacher.py against a fake OpenAI-compatible server (no model needed):
python -m unittest inference/training/test_distill_teacher.py"""

import json
import math
import os
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, HTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from distill_teacher import TeacherClient, TeacherUnavailable  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = next(
    p
    for p in (
        os.path.join(HERE, "..", "models", m, "1", "tokenizer.json")
        for m in ("flywheel-student", "flywheel-teacher")
    )
    if os.path.exists(p)
)


class FakeTeacher(BaseHTTPRequestHandler):
    status = 200
    answer = None
    requests = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        FakeTeacher.requests.append(body)
        payload = json.dumps(FakeTeacher.answer if self.status == 200 else {"error": {}}).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class TeacherClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = HTTPServer(("127.0.0.1", 0), FakeTeacher)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.base = f"http://127.0.0.1:{cls.server.server_port}/v1"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def client(self, **kw):
        return TeacherClient(self.base, "flywheel-teacher", TOKENIZER, k=3, backoff=0.01, **kw)

    def test_maps_top_k_texts_to_ids_and_pads(self):
        client = self.client()
        enc = client.tokenizer.encode(" the report is ready", add_special_tokens=False).ids
        texts = [client.tokenizer.decode([i]) for i in enc]
        self.assertTrue(all(t in client.id_of for t in texts))
        FakeTeacher.status = 200
        FakeTeacher.answer = {
            "choices": [
                {
                    "text": "".join(texts),
                    "finish_reason": "length",
                    "logprobs": {
                        "tokens": texts,
                        "top_logprobs": [{t: -0.1, "\ufffd": -3.0} for t in texts],
                    },
                }
            ]
        }
        sample = client.sample("Thanks for", max_tokens=len(texts), seed=7)
        self.assertEqual(sample.ids, enc)
        self.assertEqual([row[0] for row in sample.topk_ids], enc)
        self.assertEqual(sample.topk_logprobs[0][1:], [-math.inf, -math.inf])
        self.assertEqual(sample.dropped_ambiguous, len(texts))  # "\ufffd" is many ids' text
        self.assertEqual(FakeTeacher.requests[-1]["logprobs"], 3)
        self.assertEqual(FakeTeacher.requests[-1]["seed"], 7)

    def test_a_prompt_over_the_room_is_sent_as_its_last_ids(self):
        client = self.client()
        FakeTeacher.status = 200
        FakeTeacher.answer = {"choices": [{"text": "", "finish_reason": "stop", "logprobs": {}}]}
        long = " ".join(f"word{i}" for i in range(200))
        ids = client.tokenizer.encode(long, add_special_tokens=False).ids
        self.assertGreater(len(ids), 40)
        sample = client.sample(long, max_tokens=4, seed=1, max_prompt_tokens=40)
        self.assertEqual(FakeTeacher.requests[-1]["prompt"], ids[-40:])
        self.assertEqual(sample.prompt_ids, ids[-40:])
        # One that fits goes as text, as before (its recorded answers keep matching).
        short = client.sample("Thanks for", max_tokens=4, seed=1, max_prompt_tokens=40)
        self.assertEqual(FakeTeacher.requests[-1]["prompt"], "Thanks for")
        self.assertEqual(short.prompt_ids, client.tokenizer.encode("Thanks for", add_special_tokens=False).ids)

    def test_scores_given_ids_with_echo_and_adds_the_scored_token(self):
        client = self.client()
        prompt = client.tokenizer.encode("Thanks for", add_special_tokens=False).ids
        ids = client.tokenizer.encode(" the report", add_special_tokens=False).ids
        texts = [client.tokenizer.decode([i]) for i in prompt + ids]
        other = client.tokenizer.decode([ids[0] + 1])
        FakeTeacher.status = 200
        FakeTeacher.answer = {
            "choices": [
                {
                    "text": "".join(texts),
                    "finish_reason": "length",
                    "logprobs": {
                        "tokens": texts,
                        "token_logprobs": [None] + [-2.5] * (len(texts) - 1),
                        # OpenAI legacy: no distribution before the first token.
                        "top_logprobs": [None] + [{other: -0.2}] * (len(texts) - 1),
                        "text_offset": list(range(len(texts))),
                    },
                }
            ]
        }
        scored = client.score(prompt, ids)
        body = FakeTeacher.requests[-1]
        self.assertEqual(
            (body["prompt"], body["echo"], body["max_tokens"], body["logprobs"]),
            (prompt + ids, True, 0, 3),
        )
        self.assertEqual(scored.ids, ids)
        self.assertEqual(len(scored.topk_ids[0]), 4)  # k + 1 cells
        self.assertEqual(scored.topk_ids[0][:2], [client.id_of[other], ids[0]])
        self.assertEqual(scored.topk_logprobs[0][:2], [-0.2, -2.5])
        self.assertEqual(scored.topk_logprobs[0][2:], [-math.inf, -math.inf])
        # A server that ignores echo (no prompt positions) is named as the reason.
        FakeTeacher.answer = {"choices": [{"text": "", "logprobs": {"tokens": []}}]}
        with self.assertRaisesRegex(TeacherUnavailable, "does not score prompts"):
            self.client().score(prompt, ids)

    def test_answers_are_recorded_and_replayed_without_the_teacher(self):
        import tempfile

        FakeTeacher.status = 200
        FakeTeacher.answer = {"choices": [{"text": " x", "logprobs": {"tokens": [], "top_logprobs": []}}]}
        with tempfile.TemporaryDirectory() as tmp:
            answers = os.path.join(tmp, "answers.jsonl")
            self.client(answers=answers).sample("Thanks", max_tokens=2, seed=1)
            count = len(FakeTeacher.requests)
            FakeTeacher.status = 503  # the teacher is down: the recorded answer still serves
            replay = self.client(answers=answers, retries=0)
            self.assertEqual(replay.sample("Thanks", max_tokens=2, seed=1).finish_reason, "")
            self.assertEqual(len(FakeTeacher.requests), count)
            with self.assertRaises(TeacherUnavailable):  # a request never made is not invented
                replay.sample("Thanks", max_tokens=2, seed=2)

    def test_stops_with_a_clear_reason_when_the_teacher_is_down(self):
        FakeTeacher.status = 503
        with self.assertRaisesRegex(TeacherUnavailable, "did not answer after 3 tries"):
            self.client(retries=2).sample("x")
        FakeTeacher.status = 400
        with self.assertRaisesRegex(TeacherUnavailable, "refused the request"):
            self.client().sample("x")
        dead = TeacherClient("http://127.0.0.1:9/v1", "t", TOKENIZER, k=3, retries=1, backoff=0.01)
        with self.assertRaises(TeacherUnavailable):
            dead.sample("x")


if __name__ == "__main__":
    unittest.main()
