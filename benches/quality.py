#!/usr/bin/env python3
"""Held-out quality of exact, neural and hybrid rules, the model and
popularity, on Online Retail and the Instacart sample.

    benches/quality.sh

For each data set, in the bench database:
1. split 80/10/10 by basket (rar_split, seed 0); register the table;
2. train an mlp and an autoencoder on the training split (rar_train, up to
   --epochs epochs with early stopping on the validation split) and deploy
   the one with the better validation recall@10;
3. choose the neural thresholds on the VALIDATION split: every pair of the
   grid is scored by rar_evaluate(on_split => 'validation') on both data
   sets; the pair kept is the one with the best mean recall@10 of the
   neural rules among the pairs that, on both, give at most a quarter of
   the exact rules and hold at least as often as the exact rules (share of
   the testable rules reaching min_confidence);
4. report on the TEST split with rar_evaluate: exact, neural and hybrid
   rules (the same min_support and min_confidence), the model, popularity.
Writes benches/results/quality.json and prints the tables.
"""
import argparse
import itertools
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mine  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]

DATASETS = [
    # name, table, tid, item, min_support, min_confidence
    ("Online Retail", "online_retail_sales", "invoice_no", "stock_code", 0.005, 0.5),
    ("Instacart sample", "instacart", "order_id", "product_id", 0.001, 0.2),
]
ANTECEDENT = [0.0, 0.01, 0.02, 0.05, 0.1]
CONSEQUENT = [0.02, 0.05, 0.1, 0.2, 0.3]


def metrics(rows):
    out = {}
    for subject, metric, k, value in rows:
        out.setdefault(subject, {})[metric if k is None else f"{metric}@{k}"] = value
    return out


def evaluate(c, name, supp, conf, methods, ant, cons, on_split):
    return metrics(c.execute(
        "SELECT * FROM rar_evaluate(%s, min_support => %s, min_confidence => %s, methods => %s,"
        " antecedent_threshold => %s, consequent_threshold => %s, on_split => %s)",
        (name, supp, conf, methods, ant, cons, on_split)).fetchall())


def choose(rows):
    """The thresholds, from the validation sweeps of every data set."""
    pairs = [(x["antecedent_threshold"], x["consequent_threshold"]) for x in rows[0]["sweep"]]
    def at(r, pair):
        return next(x for x in r["sweep"] if (x["antecedent_threshold"], x["consequent_threshold"]) == pair)
    ok = [p for p in pairs if all(
        0 < at(r, p)["rules"] <= r["exact_validation"]["rules"] / 4
        and at(r, p)["share_holding"] >= r["exact_validation"]["share_holding"] for r in rows)]
    mean = lambda p, key: sum(at(r, p)[key] for r in rows) / len(rows)  # noqa: E731
    return max(ok or pairs, key=lambda p: (mean(p, "recall@10"), -mean(p, "rules"))), bool(ok)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--json", default=str(ROOT / "benches" / "results" / "quality.json"))
    a = ap.parse_args()
    mine.setup()
    results = []
    for label, table, tid, item, supp, conf in DATASETS:
        with mine.connect() as c:
            if not c.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
                print(f"skipping {label}: table {table} missing", file=sys.stderr)
                continue
            name = table
            c.execute("SELECT * FROM rar_split(%s, tid_column => %s, item_column => %s)", (table, tid, item))
            c.execute("SELECT rar_register(%s, %s::regclass, tid_column => %s, item_column => %s)", (name, table, tid, item))
            trained = []
            for arch in ("mlp", "autoencoder"):
                t0 = time.perf_counter()
                r = c.execute("SELECT model_id, recall_at_10, best_epoch, epochs FROM rar_train(%s, %s, %s)",
                              (table, arch, json.dumps({"epochs": a.epochs}))).fetchone()
                trained.append({"model": arch, "model_id": r[0], "valid_recall_at_10": r[1], "best_epoch": r[2],
                                "epochs": r[3], "seconds": time.perf_counter() - t0})
                print(label, json.dumps(trained[-1]), flush=True)
            best = max(trained, key=lambda t: t["valid_recall_at_10"])
            c.execute("SELECT * FROM rar_deploy(%s)", (best["model_id"],))
            exact_v = evaluate(c, name, supp, conf, ["exact"], 0.02, 0.1, "validation")["rules"]
            sweep = []
            for ant, cons in itertools.product(ANTECEDENT, CONSEQUENT):
                m = evaluate(c, name, supp, conf, ["neural"], ant, cons, "validation")["neural_rules"]
                sweep.append({"antecedent_threshold": ant, "consequent_threshold": cons, "rules": m["rules"],
                              "rules_testable": m["rules_testable"], "share_holding": m["share_holding"],
                              "coverage": m["coverage"], "recall@10": m["recall@10"]})
        results.append({"data": label, "name": name, "min_support": supp, "min_confidence": conf, "models": trained,
                        "deployed": best["model"], "exact_validation": exact_v, "sweep": sweep})
        print(label, "validation", json.dumps(exact_v), flush=True)
    (ant, cons), met = choose(results)
    print(f"chosen on validation: antecedent {ant}, consequent {cons} (criterion met: {met})", flush=True)
    for r in results:
        with mine.connect() as c:
            r["chosen"] = {"antecedent_threshold": ant, "consequent_threshold": cons, "criterion_met": met}
            r["test"] = evaluate(c, r["name"], r["min_support"], r["min_confidence"], ["exact", "neural", "hybrid"],
                                 ant, cons, "test")
        print(json.dumps({k: v for k, v in r.items() if k != "sweep"}), flush=True)
    pathlib.Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(a.json, "w"), indent=1)
    print_sweep(results)
    print_tables(results)


def print_sweep(results):
    print("\nValidation sweep (neural rules): rules, share holding, recall@10 per data set")
    head = " | ".join(f"{r['data']}: rules / holding / recall@10" for r in results)
    print(f"| antecedent | consequent | {head} |")
    print("|---|---|" + "---|" * len(results))
    print("| exact rules | | " + " | ".join(
        f"{int(r['exact_validation']['rules']):,} / {r['exact_validation']['share_holding']:.1%} /"
        f" {r['exact_validation']['recall@10']:.3f}" for r in results) + " |")
    for k, x in enumerate(results[0]["sweep"]):
        cells = []
        for r in results:
            y = r["sweep"][k]
            cells.append(f"{int(y['rules']):,} / {y['share_holding']:.1%} / {y['recall@10']:.3f}")
        print(f"| {x['antecedent_threshold']} | {x['consequent_threshold']} | " + " | ".join(cells) + " |")


def print_tables(results):
    for r in results:
        t = r["test"]
        ch = r["chosen"]
        print(f"\n{r['data']}: min_support {r['min_support']}, min_confidence {r['min_confidence']};"
              f" deployed model {r['deployed']}; neural thresholds chosen on validation: antecedent"
              f" {ch['antecedent_threshold']}, consequent {ch['consequent_threshold']};"
              f" {int(t['split']['test_baskets']):,} test baskets, {int(t['split']['completion_cases']):,} completion cases")
        print("| subject | rules | testable | holding on test | coverage | recall@5 | recall@10 | recall@20 | NDCG@10 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for subject, label in [("rules", "exact rules"), ("neural_rules", "neural rules"), ("hybrid_rules", "hybrid rules"),
                               ("model", f"model ({r['deployed']})"), ("popularity", "popularity")]:
            m = t.get(subject)
            if not m:
                continue
            rules = f"{int(m['rules']):,}" if "rules" in m else "–"
            testable = f"{int(m['rules_testable']):,}" if "rules_testable" in m else "–"
            hold = f"{m['share_holding']:.1%}" if "share_holding" in m else "–"
            cov = f"{m['coverage']:.1%}" if "coverage" in m else "–"
            print(f"| {label} | {rules} | {testable} | {hold} | {cov} | {m['recall@5']:.3f} | {m['recall@10']:.3f} |"
                  f" {m['recall@20']:.3f} | {m['ndcg@10']:.3f} |")


if __name__ == "__main__":
    main()
