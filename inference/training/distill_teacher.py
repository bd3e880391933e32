"""The teacher, reached only through the OpenAI-compatible API (so vLLM, TGI or a hosted model
can teach as well as the in-repo worker): samples with top-k log-probabilities per position
(`sample`), and scores of a given text (`score`: legacy completions with `echo: true`,
`logprobs: k`, `max_tokens: 0` return `top_logprobs` for every prompt token), which on-policy
distillation uses to score the student's own samples.

`/v1/completions` returns each position's top-k as {token text: logprob}. Texts are mapped back to
ids with the tokenizer the teacher and student share (tokenizer.json). A text that several ids
decode to (partial UTF-8 bytes) cannot be attributed: it is left out of the top-k, so in the
"partition" loss its mass falls into the rest cell, where it is still counted exactly. A sampled
token whose text is ambiguous ends the sample there (the prefix is kept), since the student must
be trained on the exact ids the teacher produced.
"""

import hashlib
import json
import math
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from tokenizers import Tokenizer


class TeacherUnavailable(RuntimeError):
    """The teacher did not answer after the retries; the run stops with this reason."""


@dataclass
class TeacherSample:
    prompt_ids: list
    ids: list  # the sampled completion's token ids
    topk_ids: list  # per position: k ids (padded with 0)
    topk_logprobs: list  # per position: k log-probabilities (padded with -inf)
    dropped_ambiguous: int = 0  # top-k entries whose text no single id has
    truncated: bool = False
    finish_reason: str = ""
    extra: dict = field(default_factory=dict)


class TeacherClient:
    def __init__(self, base_url, model, tokenizer_file, k=20, timeout=60.0, retries=3, backoff=1.0, answers=None):
        if not 1 <= k <= 20:
            raise ValueError("k must lie in 1..20 (the OpenAI API's limit)")
        self.url = base_url.rstrip("/") + "/completions"
        # A served teacher is not bit-reproducible (a worker's prefix-cache reuse or batching moves
        # logprobs by ~1e-7), so every answer is recorded by the request's hash in `answers`
        # (JSONL) and replayed from there: a resumed or repeated run sees the same numbers.
        self.answers_file = answers
        self.answers = {}
        if answers and os.path.exists(answers):
            with open(answers) as f:
                for line in f:
                    if line.endswith("\n"):  # a line cut by a crash is dropped, not half-read
                        entry = json.loads(line)
                        self.answers[entry["request"]] = entry["answer"]
        self.model, self.k, self.timeout, self.retries, self.backoff = model, k, timeout, retries, backoff
        self.tokenizer = Tokenizer.from_file(tokenizer_file)
        by_text = {}
        for i in range(self.tokenizer.get_vocab_size()):
            by_text.setdefault(self.tokenizer.decode([i], skip_special_tokens=False), []).append(i)
        self.id_of = {text: ids[0] for text, ids in by_text.items() if len(ids) == 1}

    def _post(self, body):
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if key in self.answers:
            return self.answers[key]
        answer = self._fetch(body)
        self.answers[key] = answer
        if self.answers_file:
            # One write() on an O_APPEND descriptor: runs sharing the file never interleave lines.
            line = (json.dumps({"request": key, "answer": answer}, sort_keys=True) + "\n").encode()
            fd = os.open(self.answers_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return answer

    def _fetch(self, body):
        data = json.dumps(body).encode()
        last = None
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                self.url, data=data, headers={"content-type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code}: {error.read()[:300].decode(errors='replace')}"
                if error.code < 500 and error.code != 429:
                    raise TeacherUnavailable(f"the teacher refused the request ({last})") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                last = str(getattr(error, "reason", error))
            if attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
        raise TeacherUnavailable(
            f"the teacher at {self.url} did not answer after {self.retries + 1} tries ({last})"
        )

    def _cells(self, top, out):
        """One position's top-k {text: logprob} as ids and logprobs, best first (ambiguous texts out)."""
        ids, lps = [], []
        for text, lp in sorted((top or {}).items(), key=lambda item: -item[1]):
            if text in self.id_of:
                ids.append(self.id_of[text])
                lps.append(float(lp))
            else:
                out.dropped_ambiguous += 1
        return ids, lps

    def score(self, prompt_ids, ids):
        """The teacher's top-k (plus the scored token itself) at each position of `ids` after
        `prompt_ids`. Sent as token ids, so the teacher scores exactly the student's tokens; the
        scored token's own logprob (`token_logprobs`) is added as a cell when it is not in the
        top-k, which keeps the partition exact (k + 1 cells, padded with -inf)."""
        full = list(prompt_ids) + list(ids)
        body = {
            "model": self.model,
            "prompt": full,
            "echo": True,
            "logprobs": self.k,
            "max_tokens": 0,
            "temperature": 0,
        }
        choice = self._post(body)["choices"][0]
        logprobs = choice.get("logprobs") or {}
        tops = logprobs.get("top_logprobs") or []
        chosen = logprobs.get("token_logprobs") or []
        if len(tops) < len(full) or len(chosen) < len(full):
            raise TeacherUnavailable(
                f"the teacher returned {len(tops)} prompt positions for {len(full)} tokens: it does not "
                "score prompts (echo with logprobs and max_tokens 0), which on-policy distillation needs"
            )
        out = TeacherSample(prompt_ids=list(prompt_ids), ids=list(ids), topk_ids=[], topk_logprobs=[])
        width = self.k + 1
        for i, token_id in enumerate(ids):
            at = len(prompt_ids) + i
            cell_ids, lps = self._cells(tops[at], out)
            lp = chosen[at]
            if token_id not in cell_ids and lp is not None:
                cell_ids.append(token_id)
                lps.append(float(lp))
            cell_ids += [0] * (width - len(cell_ids))
            lps += [-math.inf] * (width - len(lps))
            out.topk_ids.append(cell_ids[:width])
            out.topk_logprobs.append(lps[:width])
        return out

    def sample(self, prompt, max_tokens=32, temperature=1.0, seed=0, max_prompt_tokens=None):
        """The teacher's continuation of `prompt`. A prompt longer than `max_prompt_tokens` keeps
        its last tokens and is sent as those ids (the student sees the same tail; a long one would
        be refused over the context); shorter prompts go as text, so recorded answers still match."""
        prompt_ids = self.tokenizer.encode(prompt, add_special_tokens=False).ids
        if max_prompt_tokens is not None and len(prompt_ids) > max_prompt_tokens:
            prompt_ids = prompt_ids[-max(1, max_prompt_tokens):]
            prompt = prompt_ids
        body = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "seed": seed,
            "logprobs": self.k,
        }
        choice = self._post(body)["choices"][0]
        logprobs = choice.get("logprobs") or {}
        out = TeacherSample(
            prompt_ids=prompt_ids,
            ids=[],
            topk_ids=[],
            topk_logprobs=[],
            finish_reason=choice.get("finish_reason") or "",
        )
        for token, top in zip(logprobs.get("tokens") or [], logprobs.get("top_logprobs") or []):
            token_id = self.id_of.get(token)
            if token_id is None:
                out.truncated = True
                break
            ids, lps = self._cells(top, out)
            ids += [0] * (self.k - len(ids))
            lps += [-math.inf] * (self.k - len(lps))
            out.ids.append(token_id)
            out.topk_ids.append(ids[: self.k])
            out.topk_logprobs.append(lps[: self.k])
        return out
