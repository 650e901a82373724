#!/usr/bin/env python3
"""How often neural rules hold on held-out baskets, against the exact rules,
and what filters on them would change (issue 15's "neural rules hold at
least as often as the exact rules").

    benches/holding.sh

For Online Retail, the Instacart sample and Groceries (the tables of
benches/defaults.py): rar_split 80/10/10 (seed 0); rar_train(t) and
rar_train(t, 'mlp') with no params; then, for each model and each pair of
thresholds (0.005 / 0.5, and 0.001 / 0.2 where the exact rules are few),
the exact and the neural rules of two items or more (as rar_evaluate
mines them) on the training split (rar_mine(split => 'train', method =>
..., model => ..., min_length => 2)), each judged on
the test split as rar_evaluate judges them: of the rules whose antecedent
is in some test basket, the share whose confidence there reaches
min_confidence. The same neural rules are also judged after filters not
shipped (each keeps a rule only if): its confidence shrunk toward the
model's probability with k pseudo-baskets, (count + k p) / (antecedent
count + k), reaches min_confidence; the Wilson lower bound of its
confidence at z does; the model's probability itself does.
Prints a Markdown table.
"""
import collections
import math
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mine  # noqa: E402
from defaults import DATASETS, DENSE, SUPP, CONF, setup_groceries  # noqa: E402


def judge(rules, test, conf):
    """Each rule with its training counts and whether it holds on `test`."""
    out = []
    for ante, cons, confidence, count, score in rules:
        a, c = set(ante), set(cons)
        n_a = n_ac = 0
        for basket in test:
            if a <= basket:
                n_a += 1
                n_ac += c <= basket
        out.append({"conf": confidence, "count": count, "n_a": count / confidence, "p": score or 0.0,
                    "testable": n_a > 0, "holds": n_a > 0 and n_ac / n_a + 1e-12 >= conf})
    return out


def share(rows):
    testable = [r for r in rows if r["testable"]]
    return len(rows), (sum(r["holds"] for r in testable) / len(testable) if testable else float("nan"))


def wilson_low(r, z):
    n, p = r["n_a"], r["conf"]
    return (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)


FILTERS = [("as shipped", lambda r, conf: True)] + [
    (f"shrunk to the model, k = {k}", lambda r, conf, k=k: (r["count"] + k * r["p"]) / (r["n_a"] + k) >= conf)
    for k in (50, 100)
] + [
    (f"Wilson lower bound, z = {z}", lambda r, conf, z=z: wilson_low(r, z) >= conf) for z in (1.0, 1.645)
] + [("model's probability >= min_confidence", lambda r, conf: r["p"] >= conf)]


def main():
    mine.setup()
    with mine.connect() as c:
        setup_groceries(c)
    print("| data | thresholds | exact rules (holding) | model | filter | neural rules (holding) |")
    print("|---|---|---|---|---|---|")
    for label, table, tid, item in DATASETS:
        with mine.connect() as c:
            if not c.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
                print(f"skipping {label}: table {table} missing", file=sys.stderr)
                continue
            c.execute("SET statement_timeout = 0")
            c.execute("SELECT FROM rar_split(%s, seed => 0, tid_column => %s, item_column => %s)", (table, tid, item))
            models = []
            for arch in ("autoencoder", "mlp"):
                t0 = time.perf_counter()
                models.append((arch, c.execute("SELECT model_id FROM rar_train(%s, %s, tid_column => %s,"
                                               " item_column => %s)", (table, arch, tid, item)).fetchone()[0]))
                print(f"{label}: {arch} trained in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
            baskets = collections.defaultdict(set)
            for b, i in c.execute(f"SELECT {tid}::text, {item}::text FROM {table}"
                                  f" WHERE rar_split_bucket({tid}::text, 0, 0.8, 0.1) = 'test'"):
                baskets[b].add(i)
            test = list(baskets.values())

            def rules(method, supp, conf, model):
                return c.execute(
                    "SELECT antecedent, consequent, confidence, count, model_score FROM rar_mine(%s, split => 'train',"
                    " method => %s, model => %s, min_support => %s, min_confidence => %s, min_length => 2, tid_column => %s,"
                    " item_column => %s)", (table, method, model, supp, conf, tid, item)).fetchall()

            for supp, conf in [(SUPP, CONF)] + ([DENSE[label]] if label in DENSE else []):
                n_exact, exact_share = share(judge(rules("exact", supp, conf, None), test, conf))
                for arch, model_id in models:
                    neural = judge(rules("neural", supp, conf, model_id), test, conf)
                    for name, keep in FILTERS:
                        n, s = share([r for r in neural if keep(r, conf)])
                        cell = f"{n:,} ({s:.1%})" if n else "0"
                        print(f"| {label} | {supp} / {conf} | {n_exact:,} ({exact_share:.1%}) | {arch} | {name} | {cell} |",
                              flush=True)


if __name__ == "__main__":
    main()
