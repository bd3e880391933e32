"""Quality of the demo models on the held-out split, as the product uses them.

- held-out perplexity and bits per character (mail and speeches apart), non-overlapping
  windows of the context length, end-of-text targets excluded;
- next-word hit rate: at word ends in held-out mail, the text so far (the app's last 600
  characters) is the prompt; greedy decoding; a hit when the suggestion starts with a space
  and its first word equals the word the writer typed next (letters, digits and apostrophes,
  case-sensitive);
- completions of email openings and rewrites, decoded greedily the way the features ask
  (completion: 12 tokens, stop at a new line, cut after the first sentence end; rewrite:
  the feature's template and token cap, stop at `"\\n` or a blank line);
- rewrite agreement with the rule on held-out sentences (exact match, similarity);
- the exported files: ONNX vs PyTorch logits, int8 vs fp32 top-1 agreement and perplexity
  (onnxruntime, teacher-forced), and transformers' GPT2LMHeadModel on the folder.
"""
from __future__ import annotations

import difflib
import math
import os
import random
import re
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

import corpus
import rewrites

EMAIL_OPENINGS = [
    "Please let me know if you have any",
    "Thanks for the quick reply,",
    "Best regards,",
    "Does anyone know how to",
    "I will be out of the office",
    "Sorry for the late reply, I was",
    "Could you send me the",
    "I think the problem is that",
    "Thanks again for your help with",
    "Hi all,\n\nI just installed the new version and",
]
HANDMADE_REWRITES = {
    "fix_grammar": ["their is alot of work left to do for we.", "I dont think its going to be ready untill next week."],
    "more_formal": ["Hey, we're gonna be late for the meeting, sorry!!", "Thanks a lot, that's super helpful!"],
    "shorter": ["I just wanted to say that I think we should probably move the meeting to next week, if that makes sense.",
                "Basically, the server is actually down again (as far as I know) and we really need to fix it."],
    "friendlier": ["Send me the report by Friday.", "The build is broken again. Fix it."],
}
SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*(?=\s)")
FIRST_WORD = re.compile(r"[A-Za-z0-9']+")


def sentence_cut(text: str) -> str:
    m = SENTENCE_END.search(text)
    return text[:m.end()] if m else text


@torch.no_grad()
def greedy(model, tok, prompt_ids: list[int], max_new: int, stops: list[str], ctx: int | None = None,
           why: list | None = None) -> str:
    """Greedy continuation, cut before the first stop string; `why` gets "stop", "eot" or "length"."""
    cfg = model.cfg
    ctx = ctx or cfg.n_positions
    ids = prompt_ids[-(ctx - max_new):] if len(prompt_ids) > ctx - max_new else prompt_ids
    past = [(torch.zeros(1, cfg.n_head, 0, cfg.head_dim), torch.zeros(1, cfg.n_head, 0, cfg.head_dim))
            for _ in range(cfg.n_layer)]
    x = torch.tensor([ids])
    pos, out = 0, []
    for _ in range(max_new):
        n = x.shape[1]
        logits, past = model(x, torch.ones(1, pos + n, dtype=torch.long), torch.arange(pos, pos + n).unsqueeze(0), past)
        pos += n
        nxt = int(logits[0, -1].argmax())
        if nxt == tok.eot_id:
            if why is not None:
                why.append("eot")
            return tok.decode(out)
        out.append(nxt)
        text = tok.decode(out)
        if any(s in text for s in stops):
            cut = min(text.index(s) for s in stops if s in text)
            if why is not None:
                why.append("stop")
            return text[:cut]
        x = torch.tensor([[nxt]])
    if why is not None:
        why.append("length")
    return tok.decode(out)


def complete(model, tok, text_before: str) -> str:
    """What the inline-completion feature would show (greedy)."""
    raw = greedy(model, tok, tok.encode(text_before[-600:]), 12, ["\n"])
    return sentence_cut(raw)


def rewrite(model, tok, before: str, instruction: str, selection: str) -> tuple[str, bool]:
    """(rewritten text, whether the model ended it with the stop sequence)."""
    max_tokens = min(200, max(16, math.ceil(len(selection) / 4 * 1.5)))
    p = rewrites.prompt(before, instruction, selection)
    why: list = []
    raw = greedy(model, tok, tok.encode(p), max_tokens, ['"\n', "\n\n"], why=why)
    return raw, why[0] == "stop"


@torch.no_grad()
def heldout_perplexity(model, tok, docs, seq: int) -> dict:
    out = {}
    for source in ("mail", "speech", None):
        ds = [d for d in docs if d.split == "heldout" and (source is None or d.source == source)]
        if not ds:
            continue
        nll, n_tok, n_chr = 0.0, 0, 0
        for d in ds:
            ids = tok.encode(d.text) + [tok.eot_id]
            for s in range(0, len(ids) - 1, seq):
                w = ids[s:s + seq + 1]
                if len(w) < 2:
                    continue
                logits, _ = model(torch.tensor([w[:-1]]), fast=True)
                y = torch.tensor(w[1:])
                ce = F.cross_entropy(logits[0].float(), y, reduction="none")
                keep = y != tok.eot_id
                nll += ce[keep].sum().item()
                n_tok += int(keep.sum())
                n_chr += len(tok.decode([t for t in w[1:] if t != tok.eot_id]))
        key = source or "all"
        out[key] = {"documents": len(ds), "tokens": n_tok, "chars": n_chr, "loss": round(nll / n_tok, 4),
                    "perplexity": round(math.exp(nll / n_tok), 2), "bits_per_char": round(nll / math.log(2) / n_chr, 4)}
    return out


def word_end_positions(docs, n: int, seed: int) -> list[tuple[str, str, str]]:
    """(doc id, text before, next word) at n word ends of held-out mail, reproducibly."""
    cands = []
    for d in docs:
        if d.split != "heldout" or d.source != "mail":
            continue
        for m in re.finditer(r"(?<=[A-Za-z0-9,.;:!?'])( )(\S+)", d.text):
            nxt = FIRST_WORD.match(m.group(2))
            if nxt is None or m.start() < 40:
                continue
            cands.append((d.id, m.start(), nxt.group(0)))
    rng = random.Random(seed)
    pick = rng.sample(cands, min(n, len(cands)))
    texts = {d.id: d.text for d in docs}
    return [(i, texts[i][:at], w) for i, at, w in pick]


def next_word_hits(model, tok, positions) -> dict:
    hits = 0
    for _, before, word in positions:
        s = greedy(model, tok, tok.encode(before[-600:]), 6, ["\n"])
        m = FIRST_WORD.match(s[1:]) if s.startswith(" ") else None
        hits += int(m is not None and m.group(0) == word)
    return {"positions": len(positions), "hits": hits, "hit_rate": round(hits / max(1, len(positions)), 4)}


def rewrite_agreement(model, tok, docs, per_instruction: int, seed: int) -> dict:
    held = [d for d in docs if d.split == "heldout"]
    ex = rewrites.examples_from_documents(held, seed, per_instruction)
    out = {}
    for instr, rows in ex.items():
        exact = ended = 0
        sim_target = sim_input = 0.0
        for _, p, answer, src, _ in rows:
            target = answer[:-len(rewrites.ANSWER_END)]
            before = p[: p.index("\n\n" + rewrites.INSTRUCTION_TEXT[instr])]
            got, ok = rewrite(model, tok, before, instr, src)
            ended += int(ok)
            exact += int(got == target)
            sim_target += difflib.SequenceMatcher(None, got, target).ratio()
            sim_input += difflib.SequenceMatcher(None, got, src).ratio()
        n = max(1, len(rows))
        out[instr] = {"examples": len(rows), "exact_match": round(exact / n, 3), "ended_with_stop": round(ended / n, 3),
                      "similarity_to_rule_target": round(sim_target / n, 3), "similarity_to_input": round(sim_input / n, 3)}
    return out


def rewrite_samples(model, tok, docs, per_instruction: int, seed: int) -> dict:
    held = [d for d in docs if d.split == "heldout"]
    ex = rewrites.examples_from_documents(held, seed + 99, per_instruction)
    out = {}
    for instr in rewrites.INSTRUCTIONS:
        rows = []
        for sel in HANDMADE_REWRITES[instr]:
            rows.append({"input": sel, "output": rewrite(model, tok, "", instr, sel)[0], "source": "handmade"})
        for _, p, answer, src, did in ex[instr][:per_instruction - len(rows)]:
            before = p[: p.index("\n\n" + rewrites.INSTRUCTION_TEXT[instr])]
            rows.append({"input": src, "output": rewrite(model, tok, before, instr, src)[0], "source": did,
                         "rule_target": answer[:-len(rewrites.ANSWER_END)]})
        out[instr] = rows
    return out


# --- exported files -------------------------------------------------------------------------

def _ort_session(path: str):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def _ort_logits(sess, ids: np.ndarray, cfg) -> np.ndarray:
    b, s = ids.shape
    feed = {"input_ids": ids.astype(np.int64), "attention_mask": np.ones((b, s), np.int64),
            "position_ids": np.tile(np.arange(s, dtype=np.int64), (b, 1))}
    for i in range(cfg.n_layer):
        for kind in ("key", "value"):
            feed[f"past_key_values.{i}.{kind}"] = np.zeros((b, cfg.n_head, 0, cfg.head_dim), np.float32)
    return sess.run(["logits"], feed)[0]


def onnx_checks(model, model_dir: str, tok, docs, windows: int = 48) -> dict:
    """ONNX fp32 vs PyTorch, int8 vs fp32 (teacher-forced on held-out windows)."""
    cfg = model.cfg
    out: dict = {}
    fp32 = _ort_session(os.path.join(model_dir, "model.onnx"))
    names_in = [i.name for i in fp32.get_inputs()]
    names_out = [o.name for o in fp32.get_outputs()]
    want_in = ["input_ids", "attention_mask", "position_ids"] + [f"past_key_values.{i}.{k}" for i in range(cfg.n_layer) for k in ("key", "value")]
    want_out = ["logits"] + [f"present.{i}.{k}" for i in range(cfg.n_layer) for k in ("key", "value")]
    out["io_names_ok"] = names_in == want_in and names_out == want_out
    held = [d for d in docs if d.split == "heldout"]
    stream = []
    for d in held:
        stream.extend(tok.encode(d.text) + [tok.eot_id])
    seq = cfg.n_positions
    starts = np.linspace(0, len(stream) - seq - 2, num=windows).round().astype(int)
    rows = np.stack([np.asarray(stream[s:s + seq + 1]) for s in starts])
    with torch.no_grad():
        pt = model(torch.from_numpy(rows[:4, :-1]))[0].numpy()
    ox = _ort_logits(fp32, rows[:4, :-1], cfg)
    out["onnx_vs_pytorch_max_abs_diff"] = float(np.abs(pt - ox).max())
    int8_path = os.path.join(model_dir, "model_int8.onnx")
    if os.path.exists(int8_path):
        q = _ort_session(int8_path)
        agree = total = 0
        nll32 = nll8 = 0.0
        for r in rows:
            x, y = r[None, :-1], r[1:]
            a = _ort_logits(fp32, x, cfg)[0]
            b = _ort_logits(q, x, cfg)[0]
            agree += int((a.argmax(-1) == b.argmax(-1)).sum())
            total += len(y)
            la = torch.log_softmax(torch.from_numpy(a), -1)[torch.arange(len(y)), torch.from_numpy(y)]
            lb = torch.log_softmax(torch.from_numpy(b), -1)[torch.arange(len(y)), torch.from_numpy(y)]
            nll32 -= la.sum().item()
            nll8 -= lb.sum().item()
        p32, p8 = math.exp(nll32 / total), math.exp(nll8 / total)
        out["int8"] = {"positions": total, "top1_agreement": round(agree / total, 4), "perplexity_fp32": round(p32, 3),
                       "perplexity_int8": round(p8, 3), "perplexity_ratio": round(p8 / p32, 4)}
    return out


def transformers_check(model, model_dir: str) -> dict:
    """Load the folder's config.json with transformers' GPT2LMHeadModel (weights written next to
    a copy of it) and compare logits with ours."""
    try:
        import transformers
    except ImportError:
        return {"skipped": "transformers is not installed"}
    import shutil

    import hf

    with tempfile.TemporaryDirectory() as tmp:
        for f in ("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"):
            if os.path.exists(os.path.join(model_dir, f)):
                shutil.copy(os.path.join(model_dir, f), tmp)
        st = os.path.join(model_dir, "model.safetensors")
        if os.path.exists(st):
            shutil.copy(st, tmp)
        else:
            hf.save_model_weights(model, os.path.join(tmp, "model.safetensors"))
        t = transformers.AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32).eval()
        tk = transformers.AutoTokenizer.from_pretrained(tmp)
        text = "Please let me know if you have any questions about the new release."
        ids = tk(text)["input_ids"]
        with torch.no_grad():
            a = t(torch.tensor([ids])).logits
            b = model(torch.tensor([ids]))[0]
        return {"class": type(t).__name__, "tokenizer_class": type(tk).__name__, "transformers": transformers.__version__,
                "max_abs_logit_diff": float((a - b).abs().max())}
