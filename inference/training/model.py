"""GPT-style decoder (pre-LN, learned positions, tied embeddings) whose forward pass
follows the Hugging Face Optimum decoder-with-past contract, so the same module is
trained and exported to ONNX.

forward(input_ids [B,S], attention_mask [B,P+S], position_ids [B,S], past [(k,v)...])
  -> logits [B,S,V], presents [(k [B,H,P+S,D], v [B,H,P+S,D]) ...]
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_VALUE = -1e9  # finite in bf16 and fp32: fully masked rows give a uniform softmax, never NaN


@dataclass
class GPTConfig:
    vocab_size: int
    n_layer: int
    n_head: int
    n_embd: int
    head_dim: int
    n_positions: int
    n_inner: int | None = None  # MLP width, default 4 * n_embd
    dropout: float = 0.0  # residual dropout, training only

    @property
    def inner(self) -> int:
        return self.n_inner or 4 * self.n_embd

    def to_dict(self) -> dict:
        return asdict(self)


class Attention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.head_dim = cfg.head_dim
        inner = cfg.n_head * cfg.head_dim
        self.qkv = nn.Linear(cfg.n_embd, 3 * inner)
        self.proj = nn.Linear(inner, cfg.n_embd)

    def forward(self, x, allowed, past_k, past_v):
        b, s, _ = x.shape
        qkv = self.qkv(x)
        q, k, v = qkv.split(self.n_head * self.head_dim, dim=2)
        q = q.view(b, s, self.n_head, self.head_dim).transpose(1, 2)
        k = k.view(b, s, self.n_head, self.head_dim).transpose(1, 2)
        v = v.view(b, s, self.n_head, self.head_dim).transpose(1, 2)
        if allowed is None:
            # training fast path (no past, no padding): fused causal attention, same maths
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            out = out.transpose(1, 2).reshape(b, s, self.n_head * self.head_dim)
            return self.proj(out), None
        if past_k is not None:
            k = torch.cat([past_k.to(k.dtype), k], dim=2)
            v = torch.cat([past_v.to(v.dtype), v], dim=2)
        present = (k, v)
        scores = torch.matmul(q * (1.0 / math.sqrt(self.head_dim)), k.transpose(-1, -2))
        scores = scores.masked_fill(~allowed, MASK_VALUE)
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(v.dtype)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, self.n_head * self.head_dim)
        return self.proj(out), present


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, cfg.inner)
        self.proj = nn.Linear(cfg.inner, cfg.n_embd)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = MLP(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, allowed, past_k, past_v):
        a, present = self.attn(self.ln1(x), allowed, past_k, past_v)
        x = x + self.drop(a)
        x = x + self.drop(self.mlp(self.ln2(x)))
        return x, present


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None, fast=False):
        """fast=True: training/evaluation on unpadded rows without a cache (fused attention
        where this torch has it); no presents are returned."""
        b, s = input_ids.shape
        if fast and past is None and attention_mask is None and hasattr(F, "scaled_dot_product_attention"):
            x = self.wte(input_ids) + self.wpe(torch.arange(s, device=input_ids.device).unsqueeze(0))
            for block in self.blocks:
                x, _ = block(x, None, None, None)
            x = self.ln_f(x)
            return F.linear(x, self.wte.weight), None
        past_len = past[0][0].shape[2] if past is not None else 0
        total = past_len + s
        if position_ids is None:
            position_ids = torch.arange(past_len, total, dtype=torch.long, device=input_ids.device).unsqueeze(0).expand(b, s)
        if attention_mask is None:
            attention_mask = torch.ones(b, total, dtype=torch.long, device=input_ids.device)
        # causal across past + current: query i (absolute index total - s + i) sees keys j <= it
        dev = input_ids.device
        k_idx = torch.arange(total, dtype=torch.long, device=dev)
        q_idx = k_idx[total - s:] if past is None else torch.arange(s, dtype=torch.long, device=dev) + (total - s)
        causal = k_idx.unsqueeze(0) <= q_idx.unsqueeze(1)  # [S, T]
        allowed = causal.unsqueeze(0).unsqueeze(0) & (attention_mask > 0).unsqueeze(1).unsqueeze(2)  # [B,1,S,T]
        x = self.wte(input_ids) + self.wpe(position_ids)
        presents = []
        for i, block in enumerate(self.blocks):
            pk, pv = past[i] if past is not None else (None, None)
            x, present = block(x, allowed, pk, pv)
            presents.append(present)
        x = self.ln_f(x)
        # 2-D linear against the tied embedding: exports as Gemm(transB=1) without a
        # transposed copy of the embedding table in the ONNX file.
        logits = F.linear(x.reshape(b * s, -1), self.wte.weight).reshape(b, s, -1)
        return logits, presents


class OnnxWrapper(nn.Module):
    """Flat signature for torch.onnx.export (inputs/outputs in Optimum order)."""

    def __init__(self, model: GPT):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        n = self.model.cfg.n_layer
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(n)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        out = [logits.float()]
        for k, v in presents:
            out.extend([k.float(), v.float()])
        return tuple(out)
