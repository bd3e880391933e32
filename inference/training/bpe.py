"""Byte-level BPE (GPT-2 style) trained in pure Python and written as a Hugging Face
`tokenizer.json` (model BPE, ByteLevel pre-tokenizer and decoder).

Deterministic: merges are chosen by (count, then smallest pair of token ids).
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict

EOT = "<|endoftext|>"

# GPT-2's pre-tokenization pattern; \p{L} and \p{N} approximated with the `re` module
# ([^\W\d_] = letters, \d = digits). It only decides which merges are learned: encoding
# at run time is done by the tokenizer.json consumer with its own ByteLevel regex.
PRETOKENIZE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character mapping."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {v: k for k, v in BYTE_ENCODER.items()}


def train_bpe(texts: list[str], vocab_size: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Return (vocab tokens by id, merges). Ids 0..255 are bytes 0..255; the last id is EOT."""
    counts: Counter = Counter()
    for t in texts:
        counts.update(PRETOKENIZE.findall(t))
    words = [list(w.encode("utf-8")) for w in counts]
    freqs = list(counts.values())
    tokens: list[bytes] = [bytes([i]) for i in range(256)]
    pair_counts: Counter = Counter()
    where: dict = defaultdict(set)
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_counts[(a, b)] += f
            where[(a, b)].add(wi)
    merges: list[tuple[int, int]] = []
    n_merges = vocab_size - 256 - 1
    while len(merges) < n_merges and pair_counts:
        best, c = max(pair_counts.items(), key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]))
        if c < 2:
            break
        new_id = len(tokens)
        tokens.append(tokens[best[0]] + tokens[best[1]])
        merges.append(best)
        for wi in sorted(where.pop(best, ())):
            w, f = words[wi], freqs[wi]
            for a, b in zip(w, w[1:]):
                pair_counts[(a, b)] -= f
                if pair_counts[(a, b)] <= 0:
                    del pair_counts[(a, b)]
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == best[0] and w[i + 1] == best[1]:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[wi] = out
            for a, b in zip(out, out[1:]):
                pair_counts[(a, b)] += f
                where[(a, b)].add(wi)
        pair_counts.pop(best, None)
    vocab = ["".join(BYTE_ENCODER[x] for x in t) for t in tokens]
    merge_strs = [(vocab[a], vocab[b]) for a, b in merges]
    return vocab, merge_strs


class Tokenizer:
    """Reference encoder for training data (same merges, same byte mapping as tokenizer.json)."""

    def __init__(self, vocab: list[str], merges: list[tuple[str, str]]):
        self.vocab = vocab
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.eot_id = len(vocab)
        self.cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab) + 1

    def _bpe(self, word: str) -> list[int]:
        hit = self.cache.get(word)
        if hit is not None:
            return hit
        parts = [BYTE_ENCODER[b] for b in word.encode("utf-8")]
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        ids = [self.ids[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        for piece in text.split(EOT):
            for w in PRETOKENIZE.findall(piece):
                out.extend(self._bpe(w))
            out.append(self.eot_id)
        out.pop()
        return out

    def decode(self, ids: list[int]) -> str:
        parts = []
        for i in ids:
            parts.append(EOT.encode() if i == self.eot_id else bytes(BYTE_DECODER[c] for c in self.vocab[i]))
        return b"".join(parts).decode("utf-8", errors="replace")

    def to_hf_json(self) -> dict:
        vocab = {t: i for i, t in enumerate(self.vocab)}
        vocab[EOT] = self.eot_id
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{
                "id": self.eot_id, "content": EOT, "single_word": False, "lstrip": False,
                "rstrip": False, "normalized": True, "special": True,
            }],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {
                "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                "vocab": vocab,
                "merges": [f"{a} {b}" for a, b in self.ranks],
            },
        }

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_hf_json(), f, ensure_ascii=False, indent=None, separators=(",", ":"))
            f.write("\n")

    @classmethod
    def load(cls, path: str) -> "Tokenizer":
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        vocab_map = j["model"]["vocab"]
        vocab = [None] * (len(vocab_map) - 1)
        for t, i in vocab_map.items():
            if t != EOT:
                vocab[i] = t
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in j["model"]["merges"]]
        return cls(vocab, merges)


def tokenizer_config(model_max_length: int, chat_template: str) -> dict:
    """tokenizer_config.json (transformers.js' AutoTokenizer needs it next to tokenizer.json)."""
    return {
        "tokenizer_class": "GPT2Tokenizer",
        "model_max_length": model_max_length,
        "bos_token": EOT,
        "eos_token": EOT,
        "unk_token": EOT,
        "pad_token": EOT,
        "add_bos_token": False,
        "add_eos_token": False,
        "add_prefix_space": False,
        "clean_up_tokenization_spaces": False,
        "chat_template": chat_template,
    }
