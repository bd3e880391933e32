"""Minimal reader for R's serialization format (XDR, versions 2 and 3).

Enough to read the character vectors that R packages keep in lazy-load databases
(`data/Rdata.rdx` + `data/Rdata.rdb`), so the corpus can be taken from a Debian
R data package without installing R.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import zlib

NILVALUE_SXP = 254
REFSXP = 255
SPECIAL_ENVS = {253, 252, 251, 250, 242, 241}


class _Reader:
    def __init__(self, data: bytes):
        self.d = data
        self.p = 0
        self.refs: list = []

    def int(self) -> int:
        v = struct.unpack_from(">i", self.d, self.p)[0]
        self.p += 4
        return v

    def length(self) -> int:
        n = self.int()
        if n == -1:
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def header(self):
        fmt = self.d[:2]
        if fmt != b"X\n":
            raise ValueError(f"unsupported R serialization format {fmt!r}")
        self.p = 2
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal R version
        if version == 3:
            n = self.int()
            self.p += n  # native encoding
        return version

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if t == NILVALUE_SXP or t in SPECIAL_ENVS:
            return None
        if t == REFSXP:
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            return self.refs[idx - 1]
        if t == 1:  # SYMSXP
            name = self.item()
            self.refs.append(("sym", name))
            return ("sym", name)
        if t in (2, 239):  # LISTSXP / ATTRLISTSXP (pairlist)
            out = []
            while True:
                attr = self.item() if has_attr else None
                tag = self.item() if has_tag else None
                car = self.item()
                out.append((tag[1] if tag else None, car))
                nflags = struct.unpack_from(">i", self.d, self.p)[0]
                nt = nflags & 0xFF
                if nt in (2, 239):
                    self.p += 4
                    has_attr = bool(nflags & (1 << 9))
                    has_tag = bool(nflags & (1 << 10))
                    continue
                self.item()  # terminating cdr (normally NILVALUE)
                del attr
                return out
        if t == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            s = self.d[self.p:self.p + n]
            self.p += n
            return s.decode("utf-8")
        if t in (10, 13):  # LGLSXP, INTSXP
            n = self.length()
            v = list(struct.unpack_from(f">{n}i", self.d, self.p))
            self.p += 4 * n
            res = v
        elif t == 14:  # REALSXP
            n = self.length()
            v = list(struct.unpack_from(f">{n}d", self.d, self.p))
            self.p += 8 * n
            res = v
        elif t == 16:  # STRSXP
            n = self.length()
            res = [self.item() for _ in range(n)]
        elif t in (19, 20):  # VECSXP, EXPRSXP
            n = self.length()
            res = [self.item() for _ in range(n)]
        else:
            raise ValueError(f"unsupported SEXP type {t} at offset {self.p - 4}")
        if has_attr:
            attrs = dict(self.item())
            if isinstance(res, list) and "names" in attrs and t == 19:
                return dict(zip(attrs["names"], res))
        return res


def unserialize(data: bytes):
    r = _Reader(data)
    r.header()
    return r.item()


def _decompress_rdb_chunk(chunk: bytes, compressed: int) -> bytes:
    n = struct.unpack_from(">I", chunk, 0)[0]
    if compressed in (2, 3):  # bzip2 / xz with a type byte
        kind, body = chunk[4:5], chunk[5:]
        if kind == b"2":
            out = bz2.decompress(body)
        elif kind == b"Z":
            out = lzma.decompress(body)
        elif kind == b"1":
            out = zlib.decompress(body)
        else:  # '0': stored
            out = body
    else:
        out = zlib.decompress(chunk[4:])
    if len(out) != n:
        raise ValueError("corrupt lazy-load chunk")
    return out


def read_lazyload_db(rdx_path: str, rdb_path: str) -> dict:
    """Return {object name: value} for every object in an R lazy-load database."""
    raw = open(rdx_path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    else:
        raw = _decompress_rdb_chunk(raw, 1)
    index = unserialize(raw)
    compressed = index.get("compressed", [1])
    compressed = int(compressed[0]) if isinstance(compressed, list) else 1
    rdb = open(rdb_path, "rb").read()
    out = {}
    for name, (off, length) in index["variables"].items():
        chunk = rdb[int(off):int(off) + int(length)]
        out[name] = unserialize(_decompress_rdb_chunk(chunk, compressed))
    return out
