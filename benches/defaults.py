#!/usr/bin/env python3
"""What a user gets with the defaults: `rar_train(source)` and
`rar_train(source, 'mlp')` with no params, then `rar_evaluate(source,
min_support => 0.005, min_confidence => 0.5, methods =>
'{exact,neural,hybrid}')` on the test split, on Online Retail, the Instacart
sample and Groceries (held out from every choice of defaults); and where the
data has customers and times (Online Retail, the Instacart sample), the
sequence model `rar_train(source, 'gru', customer_column => ...,
time_column => ...)` judged the same way on the same baskets (a copy of the
lines with their customer and time, split with the same seed: the same
baskets fall in each set, so the rules' and popularity's figures must be
the same, which the script checks).

    benches/defaults.sh [--params '{"epochs": 30}'] [--models autoencoder,mlp,gru]

For each data set: rar_split 80/10/10 (seed 0); each model trained with the
given params (none by default) and deployed; its recall@10 on the test split
against the exact rules' and popularity's, and the neural rules against the
exact rules (rules, share holding on test). Writes
benches/results/defaults.json and a Markdown table.
"""
import argparse
import csv
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mine  # noqa: E402
from quality import metrics  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATASETS = [
    ("Online Retail", "online_retail_sales", "invoice_no", "stock_code"),
    ("Instacart sample", "instacart", "order_id", "product_id"),
    ("Groceries", "groceries", "transaction_id", "item"),
]
# The same lines with their customer and time, for the sequence model:
# (table, customer column, time column, CREATE TABLE ... AS query).
SEQUENCE = {
    "Online Retail": ("online_retail_customers", "customer_id", "invoice_date",
                      "SELECT invoice_no, stock_code, customer_id, invoice_date FROM online_retail"
                      " WHERE quantity > 0 AND invoice_no NOT LIKE 'C%'"),
    # order_number orders a user's orders; as days, a time column.
    "Instacart sample": ("instacart_customers", "user_id", "ordered_at",
                         "SELECT order_id, product_id, user_id,"
                         " timestamp '2000-01-01' + order_number * interval '1 day' AS ordered_at FROM instacart_raw"),
}
SUPP, CONF = 0.005, 0.5
# Neural rules are a subset of the exact rules at the same thresholds: where
# 0.005 and 0.5 leave almost no exact rules (3 on the Instacart sample, 108
# on Groceries), they are compared at lower thresholds too (those of
# benches/quality.py for the Instacart sample).
DENSE = {"Instacart sample": (0.001, 0.2), "Groceries": (0.001, 0.2)}


def setup_groceries(c):
    if c.execute("SELECT to_regclass('groceries')").fetchone()[0]:
        return
    c.execute("CREATE TABLE groceries (transaction_id int, item text)")
    with open(ROOT / "data" / "groceries.csv", newline="") as f, \
            c.cursor().copy("COPY groceries FROM STDIN") as cp:
        r = csv.reader(f)
        next(r)
        for t, i in r:
            cp.write_row((int(t), i))
    c.execute("ANALYZE groceries")


def judge(c, label, table, arch, params, model_id, epochs, seconds):
    """Deploys the model and judges it with rar_evaluate on the test split."""
    c.execute("SELECT FROM rar_deploy(%s)", (model_id,))
    m = metrics(c.execute(
        "SELECT * FROM rar_evaluate(%s, min_support => %s, min_confidence => %s,"
        " methods => '{exact,neural,hybrid}')", (table, SUPP, CONF)).fetchall())
    row = {"data": label, "model": arch, "params": params, "epochs": epochs,
           "train_seconds": round(seconds, 1), "metrics": m}
    if label in DENSE:
        supp, conf = DENSE[label]
        row["dense"] = {"min_support": supp, "min_confidence": conf, "metrics": metrics(c.execute(
            "SELECT * FROM rar_evaluate(%s, min_support => %s, min_confidence => %s,"
            " methods => '{exact,neural,hybrid}')", (table, supp, conf)).fetchall())}
    print(json.dumps(row), flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="{}", help="rar_train params (default: none, the defaults)")
    ap.add_argument("--models", default="autoencoder,mlp,gru", help="architectures (gru where the data has customers)")
    ap.add_argument("--json", default=str(ROOT / "benches" / "results" / "defaults.json"))
    a = ap.parse_args()
    mine.setup()
    out = []
    with mine.connect() as c:
        setup_groceries(c)
    for label, table, tid, item in DATASETS:
        with mine.connect() as c:
            if not c.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
                print(f"skipping {label}: table {table} missing", file=sys.stderr)
                continue
            c.execute("SELECT FROM rar_split(%s, seed => 0, tid_column => %s, item_column => %s)", (table, tid, item))
            c.execute("SELECT FROM rar_register(%s, %s::regclass, tid_column => %s, item_column => %s)",
                      (table, table, tid, item))
            for arch in [m for m in a.models.split(",") if m != "gru"]:
                t0 = time.perf_counter()
                model_id, epochs = c.execute(
                    "SELECT model_id, epochs FROM rar_train(%s, %s, %s::jsonb, tid_column => %s, item_column => %s)",
                    (table, arch, a.params, tid, item)).fetchone()
                seconds = time.perf_counter() - t0
                out.append(judge(c, label, table, arch, a.params, model_id, epochs, seconds))
            if "gru" in a.models.split(",") and label in SEQUENCE:
                seq, customer, at, query = SEQUENCE[label]
                if not c.execute("SELECT to_regclass(%s)", (seq,)).fetchone()[0]:
                    c.execute(f"CREATE TABLE {seq} AS {query}")
                    c.execute(f"ANALYZE {seq}")
                c.execute("SELECT FROM rar_split(%s, seed => 0, tid_column => %s, item_column => %s)", (seq, tid, item))
                c.execute("SELECT FROM rar_register(%s, %s::regclass, tid_column => %s, item_column => %s)",
                          (seq, seq, tid, item))
                t0 = time.perf_counter()
                model_id, epochs = c.execute(
                    "SELECT model_id, epochs FROM rar_train(%s, 'gru', %s::jsonb, tid_column => %s, item_column => %s,"
                    " customer_column => %s, time_column => %s)", (seq, a.params, tid, item, customer, at)).fetchone()
                seconds = time.perf_counter() - t0
                row = judge(c, label, seq, "gru", a.params, model_id, epochs, seconds)
                basket_only = next(r for r in out if r["data"] == label)
                row["same_cases"] = all(row["metrics"][s] == basket_only["metrics"][s] for s in ("rules", "popularity"))
                if not row["same_cases"]:
                    print(f"WARNING: {label}: the rules or popularity differ on {seq}: not the same held-out cases",
                          file=sys.stderr)
                out.append(row)
    pathlib.Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nparams {a.params}; rar_evaluate(min_support => {SUPP}, min_confidence => {CONF}) on the test split\n")
    print("| data | model | epochs | train (s) | recall@10 model | exact rules | popularity | model / rules"
          " | neural rules (holding) | exact rules (holding) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in out:
        m = r["metrics"]
        model, rules, pop = m["model"]["recall@10"], m["rules"]["recall@10"], m["popularity"]["recall@10"]
        nr, er = m["neural_rules"], m["rules"]
        print(f"| {r['data']} | {r['model']} | {r['epochs']} | {r['train_seconds']} | {model:.3f} | {rules:.3f}"
              f" | {pop:.3f} | {model / rules if rules else float('inf'):.2f} | {int(nr['rules']):,}"
              f" ({nr['share_holding']:.1%}) | {int(er['rules']):,} ({er['share_holding']:.1%}) |")

    print("\nNeural and hybrid rules against the exact rules (rules, share holding on test):\n")
    print("| data | model | thresholds | exact rules | neural rules | exact / neural | hybrid rules |")
    print("|---|---|---|---|---|---|---|")
    for r in out:
        for supp, conf, m in [(SUPP, CONF, r["metrics"])] + (
                [(r["dense"]["min_support"], r["dense"]["min_confidence"], r["dense"]["metrics"])] if "dense" in r else []):
            er, nr, hr = m["rules"], m["neural_rules"], m["hybrid_rules"]
            cell = lambda x: f"{int(x['rules']):,} ({x['share_holding']:.1%})" if x["rules"] else "0"  # noqa: E731
            ratio = f"{er['rules'] / nr['rules']:.1f}" if nr["rules"] else "–"
            print(f"| {r['data']} | {r['model']} | {supp} / {conf} | {cell(er)} | {cell(nr)} | {ratio} | {cell(hr)} |")


if __name__ == "__main__":
    main()
