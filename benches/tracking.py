#!/usr/bin/env python3
"""What rar_track_changes costs the writers of a table, and what it saves a
session that mines the table again.

    benches/tracking.sh

Writers: the same statements on an untracked and on a tracked copy of a
table, in the same run, alternating: N single-row INSERTs, each its own
transaction (the worst case: one change row per line), and one COPY of the
Online Retail lines (one change row for all of them). Readers: rar_mine on
the tracked Online Retail table, first call of a session against the next
calls with other thresholds (the baskets the session kept).
Medians of --repeat runs.
"""
import argparse
import gzip
import json
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mine  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
connect = mine.connect


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--inserts", type=int, default=5000)
    ap.add_argument("--json", default=str(ROOT / "benches" / "results" / "tracking.json"))
    args = ap.parse_args()
    # The bench database, the installed build, and the tracked tables of
    # benches/mine.py.
    mine.setup()
    raw = gzip.decompress((ROOT / "data" / "online_retail.csv.gz").read_bytes())
    lines = [l.split(",")[:2] for l in raw.decode().splitlines()[1:]]
    copy_text = "".join(f"{a}\t{b}\n" for a, b in lines)
    out = {"inserts": args.inserts, "copy_lines": len(lines)}
    with connect() as c:
        times = {"untracked": {"inserts": [], "copy": []}, "tracked": {"inserts": [], "copy": []}}
        for _ in range(args.repeat):
            for kind in ("untracked", "tracked"):
                c.execute(f"DROP TABLE IF EXISTS track_{kind}")
                c.execute(f"CREATE TABLE track_{kind} (basket text, item text)")
                if kind == "tracked":
                    c.execute("SELECT rar_track_changes('track_tracked')")
                t0 = time.perf_counter()
                for k in range(args.inserts):
                    c.execute(f"INSERT INTO track_{kind} VALUES (%s, 'x')", (str(k),))
                times[kind]["inserts"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                with c.cursor().copy(f"COPY track_{kind} FROM STDIN") as cp:
                    cp.write(copy_text)
                times[kind]["copy"].append(time.perf_counter() - t0)
        for kind in times:
            for what in times[kind]:
                out[f"{kind}_{what}_s"] = statistics.median(times[kind][what])
        c.execute("DROP TABLE track_untracked, track_tracked")
        # Readers: the tracked Online Retail table of benches/mine.py.
        first, again = [], []
        for _ in range(args.repeat):
            with connect() as r:
                t0 = time.perf_counter()
                r.execute("SELECT count(*) FROM rar_mine('online_retail_sales', min_support => 0.01)").fetchone()
                first.append(time.perf_counter() - t0)
                for supp in (0.02, 0.015, 0.012):
                    t0 = time.perf_counter()
                    r.execute("SELECT count(*) FROM rar_mine('online_retail_sales', min_support => %s)",
                              (supp,)).fetchone()
                    again.append(time.perf_counter() - t0)
                assert r.execute("SELECT sum(uses) FROM rar_basket_cache()").fetchone()[0] == 3
        out["mine_first_s"] = statistics.median(first)
        out["mine_again_s"] = statistics.median(again)
    pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    json.dump(out, open(args.json, "w"), indent=1)
    print(json.dumps(out, indent=1))
    n = args.inserts
    print(f"\n| writer | untracked (s) | tracked (s) | tracked / untracked |\n|---|---|---|---|")
    for what, label in (("inserts", f"{n:,} single-row INSERTs, one transaction each"),
                        ("copy", f"COPY of {len(lines):,} lines")):
        u, t = out[f"untracked_{what}_s"], out[f"tracked_{what}_s"]
        print(f"| {label} | {u:.3f} | {t:.3f} | {t / u:.2f} |")
    print(f"\nrar_mine on online_retail_sales: first call of a session {out['mine_first_s']:.3f} s,"
          f" next calls (other thresholds) {out['mine_again_s']:.3f} s"
          f" ({out['mine_again_s'] / out['mine_first_s']:.2f})")


if __name__ == "__main__":
    main()
