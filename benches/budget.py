#!/usr/bin/env python3
"""What rar.memory_limit charges against what a call really holds at its
peak, for the two charges calibrated by measurement:

- rar_mine: RULE_PEAK_BYTES a rule (crates/rar-core/src/rules.rs), on one
  basket of N items mined at max_length 2 (N * N rules, those without an
  antecedent included);
- rar_rules_agg: JSON_PEAK_PER_BYTE per byte of the jsonb estimate
  (src/api/aggregate.rs), on one group of N items.

Each call runs in a fresh connection with rar.memory_limit raised out of the
way; the peak is the backend's VmHWM after the call less before it.

    benches/budget.sh [--items 1000,1500] [--agg-items 300,600]
"""
import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from mine import ROOT, connect  # noqa: E402
from procmem import status_kb  # noqa: E402

RULE_PEAK_BYTES = 176  # crates/rar-core/src/rules.rs
NODE_BYTES = 20
JSON_PEAK_PER_BYTE = 14  # src/api/aggregate.rs


def peak_growth(sql):
    with connect() as c:
        c.execute("SET rar.memory_limit = '8GB'")
        pid = c.info.backend_pid
        before = status_kb(pid, "VmHWM")
        value = c.execute(sql).fetchone()[0]
        return value, (status_kb(pid, "VmHWM") - before) * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", default="1000,1500", help="items of the basket rar_mine mines")
    ap.add_argument("--agg-items", default="300,600", help="items of the group rar_rules_agg mines (jsonb holds 256MB)")
    a = ap.parse_args()
    out = []
    for n in [int(x) for x in a.items.split(",")]:
        with connect() as c:
            c.execute("DROP TABLE IF EXISTS budget_basket")
            c.execute(f"CREATE TABLE budget_basket AS SELECT 1 AS tid, 'item' || g AS item FROM generate_series(1, {n}) g")
        rules, grew = peak_growth(
            "SELECT count(*) FROM rar_mine('budget_basket', min_support => 0.5, min_confidence => 0.1,"
            " max_length => 2, tid_column => 'tid', item_column => 'item')")
        charged = rules * RULE_PEAK_BYTES + (n + n * (n - 1) // 2) * NODE_BYTES
        out.append({"call": "rar_mine", "items": n, "rules": rules, "peak_growth": grew, "charged": charged,
                    "peak_per_rule": round(grew / rules, 1), "charged_over_peak": round(charged / grew, 2)})
        print(json.dumps(out[-1]), flush=True)
    for n in [int(x) for x in a.agg_items.split(",")]:
        length, grew = peak_growth(
            f"SELECT jsonb_array_length(rar_rules_agg(1, i::text, 0.5, 0.1, 2)) FROM generate_series(1, {n}) i")
        # Rules x => y and {} => y (the aggregate keeps rules without an
        # antecedent), each 256 bytes plus its items' text and headers.
        lengths = [len(str(x)) + 8 for x in range(1, n + 1)]
        total = sum(lengths)
        estimate = sum(256 * n + (total - ly) + n * ly for ly in lengths)
        charged = estimate * JSON_PEAK_PER_BYTE
        out.append({"call": "rar_rules_agg", "items": n, "rules": length, "peak_growth": grew, "charged": charged,
                    "peak_per_estimated_byte": round(grew / estimate, 1), "charged_over_peak": round(charged / grew, 2)})
        print(json.dumps(out[-1]), flush=True)
    with connect() as c:
        c.execute("DROP TABLE IF EXISTS budget_basket")
    (ROOT / "benches" / "results" / "budget.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
