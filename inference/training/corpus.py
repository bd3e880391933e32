"""Pinned training corpus: Jane Austen's six novels from Debian's r-cran-janeaustenr.

The package is read without R: its lazy-load database is parsed by rdata.py.
If the package is not installed, the pinned .deb is fetched with `apt-get download`
into inference/training/.cache/ (ignored by git) and unpacked with `dpkg-deb -x`
(neither needs R nor installs anything). The resulting text must match the SHA-256
recorded in corpus.json.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

import rdata

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache")
SPEC_PATH = os.path.join(HERE, "corpus.json")


def load_spec() -> dict:
    with open(SPEC_PATH, encoding="utf-8") as f:
        return json.load(f)


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _how_to_get(spec: dict) -> str:
    p = spec["package"]
    return (
        f"The corpus comes from the Debian package {p['name']} {p['version']}.\n"
        f"Either install it:   apt-get update && apt-get install -y --no-install-recommends {p['name']}={p['version']}\n"
        f"or put its .deb in {CACHE}/ without installing R:\n"
        f"   apt-get update && (cd {CACHE} && apt-get download {p['name']}={p['version']})"
    )


def _locate_package_files(spec: dict) -> list[str]:
    files = spec["package"]["files"]
    if all(os.path.exists(f) for f in files):
        return files
    root = os.path.join(CACHE, "root")
    cached = [os.path.join(root, f.lstrip("/")) for f in files]
    if all(os.path.exists(f) for f in cached):
        return cached
    os.makedirs(CACHE, exist_ok=True)
    p = spec["package"]
    deb = os.path.join(CACHE, f"{p['name']}_{p['version']}_all.deb")
    if not os.path.exists(deb):
        print(f"corpus: fetching {p['name']}={p['version']} with apt-get download ...", file=sys.stderr)
        r = subprocess.run(["apt-get", "download", f"{p['name']}={p['version']}"], cwd=CACHE,
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(deb):
            sys.exit(f"corpus: could not download the package ({r.stderr.strip()[-300:]}).\n" + _how_to_get(spec))
    if p.get("deb_sha256") and sha256_file(deb) != p["deb_sha256"]:
        sys.exit(f"corpus: {deb} has sha256 {sha256_file(deb)}, expected {p['deb_sha256']}.\n" + _how_to_get(spec))
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    if not all(os.path.exists(f) for f in cached):
        sys.exit("corpus: the package does not contain the expected files.\n" + _how_to_get(spec))
    return cached


def clean_novel(lines: list[str]) -> str:
    """Unwrap Project Gutenberg line-wrapping into one paragraph per line."""
    paragraphs, cur = [], []
    for line in lines:
        line = (line or "").replace("_", "").strip()
        if line:
            cur.append(line)
        elif cur:
            paragraphs.append(re.sub(r"\s+", " ", " ".join(cur)))
            cur = []
    if cur:
        paragraphs.append(re.sub(r"\s+", " ", " ".join(cur)))
    return "\n".join(paragraphs) + "\n"


def load_documents(verify: bool = True) -> tuple[list[str], dict]:
    """Return (list of novel texts in the pinned order, corpus spec)."""
    spec = load_spec()
    rdx, rdb = _locate_package_files(spec)
    objects = rdata.read_lazyload_db(rdx, rdb)
    docs = [clean_novel(objects[name]) for name in spec["package"]["objects"]]
    digest = sha256_bytes(canonical_text(docs).encode("utf-8"))
    if verify and digest != spec["text_sha256"]:
        sys.exit(f"corpus: text sha256 {digest} does not match corpus.json ({spec['text_sha256']}).\n"
                 + _how_to_get(spec))
    return docs, spec


def canonical_text(docs: list[str]) -> str:
    """The exact text whose SHA-256 is pinned: novels joined by <|endoftext|>."""
    return "<|endoftext|>".join(docs)


if __name__ == "__main__":
    docs, spec = load_documents(verify="--print-digest" not in sys.argv)
    text = canonical_text(docs)
    print(json.dumps({"text_sha256": sha256_bytes(text.encode("utf-8")), "text_chars": len(text),
                      "docs": [len(d) for d in docs]}))
