#!/usr/bin/env python3
"""Customers' history against the basket alone: the sequence model (`gru`,
a GRU over each customer's earlier baskets with the current basket) beside
the basket-only models (`mlp`, `autoencoder`), each trained with the
defaults on the same split, vocabulary and held-out baskets
(`crates/rar-model/examples/sequence_check.rs`), on the two shipped data
sets with a customer and a time: Online Retail (CustomerID, InvoiceDate;
lines without a customer keep their basket, with no history) and the
Instacart sample (user_id, order_number). Needs no PostgreSQL.

    benches/sequence.sh [--models mlp,autoencoder,gru]

Results: benches/results/sequence.json and a Markdown table.
"""
import argparse
import csv
import datetime
import gzip
import json
import os
import pathlib
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def online_retail(out):
    with gzip.open(ROOT / "data" / "online_retail.csv.gz", "rt", encoding="utf-8") as f, open(out, "w", newline="") as o:
        w = csv.writer(o)
        w.writerow(["basket", "customer", "time", "item"])
        for r in csv.DictReader(f):
            if int(r["Quantity"]) <= 0 or r["InvoiceNo"].startswith("C"):
                continue
            t = datetime.datetime.fromisoformat(r["InvoiceDate"]).timestamp()
            w.writerow([r["InvoiceNo"], r["CustomerID"], int(t), r["StockCode"]])


def instacart(out):
    with gzip.open(ROOT / "data" / "instacart" / "order_products_sample.csv.gz", "rt") as f, open(out, "w", newline="") as o:
        w = csv.writer(o)
        w.writerow(["basket", "customer", "time", "item"])
        for r in csv.DictReader(f):
            w.writerow([r["order_id"], r["user_id"], r["order_number"], r["product_id"]])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="mlp,autoencoder,gru")
    ap.add_argument("--exe", default=str(ROOT / "target" / "release" / "examples" / "sequence_check"))
    ap.add_argument("--json", default=str(ROOT / "benches" / "results" / "sequence.json"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    results = []
    for name, make in [("Online Retail", online_retail), ("Instacart sample", instacart)]:
        path = os.path.join(tmp, "lines.csv")
        make(path)
        out = subprocess.run([args.exe, path, args.models], check=True, capture_output=True, text=True).stdout
        print(name, out, flush=True)
        header = out.splitlines()[0]
        for line in out.splitlines()[1:]:
            if line.startswith("{"):
                results.append({"data": name, "data_summary": header, **json.loads(line)})
    pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(args.json, "w"), indent=1)
    print("| data | model | epochs (best) | validation recall@10 | test recall@10 | test NDCG@10 | popularity test recall@10 | model / popularity |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        p = r["popularity_test_recall_at_10"]
        print(f"| {r['data']} | {r['model']} | {r['epochs']} ({r['best_epoch']}) | {r['valid_recall_at_10']:.4f} |"
              f" {r['test_recall_at_10']:.4f} | {r['test_ndcg_at_10']:.4f} | {p:.4f} | {r['test_recall_at_10'] / p:.2f} |")


if __name__ == "__main__":
    main()
