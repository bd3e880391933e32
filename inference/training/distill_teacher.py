"""The teacher, reached only through the OpenAI-compatible API (so vLLM, TGI or a hosted model
can teach as well as the in-repo worker): samples with top-k log-probabilities per position.

`/v1/completions` returns each position's top-k as {token text: logprob}. Texts are mapped back to
ids with the tokenizer the teacher and student share (tokenizer.json). A text that several ids
decode to (partial UTF-8 bytes) cannot be attributed: it is left out of the top-k, so in the
"partition" loss its mass falls into the rest cell, where it is still counted exactly. A sampled
token whose text is ambiguous ends the sample there (the prefix is kept), since the student must
be trained on the exact ids the teacher produced.
"""

import json
import math
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
    def __init__(self, base_url, model, tokenizer_file, k=20, timeout=60.0, retries=3, backoff=1.0):
        if not 1 <= k <= 20:
            raise ValueError("k must lie in 1..20 (the OpenAI API's limit)")
        self.url = base_url.rstrip("/") + "/completions"
        self.model, self.k, self.timeout, self.retries, self.backoff = model, k, timeout, retries, backoff
        self.tokenizer = Tokenizer.from_file(tokenizer_file)
        by_text = {}
        for i in range(self.tokenizer.get_vocab_size()):
            by_text.setdefault(self.tokenizer.decode([i], skip_special_tokens=False), []).append(i)
        self.id_of = {text: ids[0] for text, ids in by_text.items() if len(ids) == 1}

    def _post(self, body):
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

    def sample(self, prompt, max_tokens=32, temperature=1.0, seed=0):
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
            prompt_ids=self.tokenizer.encode(prompt, add_special_tokens=False).ids,
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
            ids, lps = [], []
            for text, lp in sorted(top.items(), key=lambda item: -item[1]):
                if text in self.id_of:
                    ids.append(self.id_of[text])
                    lps.append(float(lp))
                else:
                    out.dropped_ambiguous += 1
            ids += [0] * (self.k - len(ids))
            lps += [-math.inf] * (self.k - len(lps))
            out.ids.append(token_id)
            out.topk_ids.append(ids[: self.k])
            out.topk_logprobs.append(lps[: self.k])
        return out
