#!/usr/bin/env python3
"""Training throughput of rar_train against the same models in PyTorch
(Python), in the same run: same baskets, split, vocabulary, architecture,
batch size, masking, loss, optimizer and thread count. Both run libtorch's
kernels; the difference is the data handling around them.

    benches/train.sh [--epochs 2] [--threads 2]

Throughput = training baskets per second over whole epochs, validation pass
included (as rar_train reports it). Peak memory: the backend's VmHWM after
rar_train (it includes libtorch itself), the Python process's max RSS.
"""
import argparse
import json
import os
import pathlib
import resource
import time

import numpy as np
import psycopg
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
DB = "rar_bench"


def connect():
    return psycopg.connect(host=os.environ.get("PGHOST", "/var/lib/postgresql/rar/run"),
                           port=os.environ.get("PGPORT", "5415"), user="postgres", dbname=DB, autocommit=True)


def load(table, tid, item, min_count=5, max_vocab=5000):
    """The baskets of rar's default split (80/10/10 by hash, seed 0) and its vocabulary rule."""
    with connect() as c:
        rows = c.execute(f"SELECT {tid}::text, {item}::text, rar_split_bucket({tid}::text, 0, 0.8, 0.1) FROM {table}").fetchall()
    sets = {"train": {}, "validation": {}}
    for t, i, s in rows:
        if s in sets:
            sets[s].setdefault(t, set()).add(i)
    counts = {}
    for b in sets["train"].values():
        for i in b:
            counts[i] = counts.get(i, 0) + 1
    vocab = sorted((i for i, n in counts.items() if n >= min_count), key=lambda i: (-counts[i], i))[:max_vocab]
    index = {v: k for k, v in enumerate(vocab)}
    enc = lambda bs: [sorted(index[i] for i in b if i in index) for b in bs.values()]
    return enc(sets["train"]), enc(sets["validation"]), len(vocab)


class Mlp(nn.Module):
    def __init__(s, v, h, d):
        super().__init__(); s.l1, s.l2, s.out, s.d = nn.Linear(v, h), nn.Linear(h, h), nn.Linear(h, v), d
    def forward(s, x, tok):
        h = F.dropout(F.relu(s.l1(x)), s.d, s.training)
        return s.out(F.dropout(F.relu(s.l2(h)), s.d, s.training))


class Autoencoder(nn.Module):
    def __init__(s, v, h, b, d):
        super().__init__()
        s.e1, s.e2, s.d1, s.d2, s.d = nn.Linear(v, h), nn.Linear(h, b), nn.Linear(b, h), nn.Linear(h, v), d
    def forward(s, x, tok):
        z = torch.tanh(s.e2(F.relu(s.e1(F.dropout(x, s.d, s.training)))))
        return s.d2(F.relu(s.d1(z)))


class Layer(nn.Module):
    def __init__(s, e, heads):
        super().__init__()
        s.q, s.k, s.v, s.o = (nn.Linear(e, e) for _ in range(4))
        s.ff1, s.ff2, s.ln1, s.ln2, s.h = nn.Linear(e, 4 * e), nn.Linear(4 * e, e), nn.LayerNorm(e), nn.LayerNorm(e), heads
    def forward(s, x, pad, d):
        b, l, e = x.shape
        sp = lambda t: t.view(b, l, s.h, e // s.h).transpose(1, 2)
        q, k, v = sp(s.q(x)), sp(s.k(x)), sp(s.v(x))
        att = (q @ k.transpose(-2, -1) / (e // s.h) ** 0.5).masked_fill(pad.view(b, 1, 1, l), float("-inf"))
        ctx = (F.dropout(att.softmax(-1), d, s.training) @ v).transpose(1, 2).contiguous().view(b, l, e)
        x = s.ln1(x + F.dropout(s.o(ctx), d, s.training))
        return s.ln2(x + F.dropout(s.ff2(F.relu(s.ff1(x))), d, s.training))


class SetTransformer(nn.Module):
    def __init__(s, v, e, heads, layers, d):
        super().__init__()
        s.emb, s.layers, s.head, s.d = nn.Embedding(v + 1, e), nn.ModuleList(Layer(e, heads) for _ in range(layers)), nn.Linear(e, v), d
    def forward(s, x, tok):
        pad = tok.eq(0)
        h = s.emb(tok)
        for layer in s.layers:
            h = layer(h, pad, s.d)
        keep = (~pad).unsqueeze(-1).float()
        return s.head((h * keep).sum(1) / keep.sum(1).clamp_min(1))


def batch(lists, v, max_items=64):
    x = torch.zeros(len(lists), v)
    length = max(1, min(max_items, max(len(l) for l in lists)))
    tok = torch.zeros(len(lists), length, dtype=torch.long)
    for r, l in enumerate(lists):
        x[r, l] = 1.0
        tok[r, : min(len(l), length)] = torch.tensor(l[:length]) + 1
    return x, tok


def python_epochs(model_name, train, valid, v, epochs, threads, bs=256, lr=5e-3, mask_rate=0.3):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = {"mlp": lambda: Mlp(v, 256, 0.1), "autoencoder": lambda: Autoencoder(v, 256, 64, 0.1),
           "transformer": lambda: SetTransformer(v, 64, 4, 2, 0.1)}[model_name]()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    usable = [b for b in train if len(b) >= 2]
    cases = [(b[1:], b[0]) for b in valid if len(b) >= 2]
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(epochs):
        net.train()
        order = rng.permutation(len(usable))
        for s in range(0, len(order), bs):
            chunk = [usable[i] for i in order[s:s + bs]]
            vis, tgt = [], torch.zeros(len(chunk), v)
            for r, b in enumerate(chunk):
                perm = rng.permutation(b)
                k = min(max(1, round(mask_rate * len(b))), len(b) - 1)
                vis.append(sorted(perm[k:].tolist()))
                tgt[r, b if model_name == "autoencoder" else perm[:k].tolist()] = 1.0
            x, tok = batch(vis, v)
            loss = F.binary_cross_entropy_with_logits(net(x, tok), tgt)
            opt.zero_grad(); loss.backward(); opt.step()
        net.eval()
        with torch.no_grad():
            for s in range(0, len(cases), bs):
                chunk = cases[s:s + bs]
                x, tok = batch([c[0] for c in chunk], v)
                net(x, tok).masked_fill(x > 0.5, float("-inf")).topk(20, -1)
    return len(usable) * epochs / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    with connect() as c:
        # The bench database holds only bench tables: always the installed build.
        c.execute("DROP EXTENSION IF EXISTS rar CASCADE")
        c.execute("CREATE EXTENSION rar")
    results = []
    for name, table, tid, item in [("Online Retail", "online_retail_sales", "invoice_no", "stock_code"),
                                   ("Instacart sample", "instacart", "order_id", "product_id")]:
        with connect() as c:
            if not c.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
                print(f"skipping {name}: run benches/mine.sh first to load {table}")
                continue
        train, valid, v = load(table, tid, item)
        for model in ["mlp", "autoencoder", "transformer"]:
            params = json.dumps({"epochs": args.epochs, "patience": 100, "threads": args.threads, "device": "cpu"})
            with connect() as c:
                c.execute("DELETE FROM rar.splits WHERE relation = %s::regclass", (table,))
                pid = c.info.backend_pid
                rar_bps, rar_s = c.execute(f"SELECT baskets_per_second, seconds FROM rar_train('{table}', %s, %s)", (model, params)).fetchone()
                hwm = int(open(f"/proc/{pid}/status").read().split("VmHWM:")[1].split()[0]) // 1024
            py_bps = python_epochs(model, train, valid, v, args.epochs, args.threads)
            row = {"data": name, "model": model, "vocab": v, "train_baskets": sum(len(b) >= 2 for b in train),
                   "rar_baskets_per_s": rar_bps, "pytorch_baskets_per_s": py_bps, "ratio": rar_bps / py_bps,
                   "rar_backend_peak_mb": hwm, "python_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
            results.append(row)
            print(json.dumps(row), flush=True)
    out = ROOT / "benches" / "results" / "train.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(out, "w"), indent=1)
    print(f"\n| data | model | vocabulary | training baskets | rar_train (baskets/s) | PyTorch in Python (baskets/s) | ratio | rar backend peak (MB) | Python peak (MB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['data']} | {r['model']} | {r['vocab']:,} | {r['train_baskets']:,} | {r['rar_baskets_per_s']:,.0f} |"
              f" {r['pytorch_baskets_per_s']:,.0f} | {r['ratio']:.2f} | {r['rar_backend_peak_mb']} | {r['python_peak_mb']} |")


if __name__ == "__main__":
    main()
