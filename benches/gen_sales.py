#!/usr/bin/env python3
"""Deterministic generator of large, realistic sales tables, loaded straight
into PostgreSQL with binary COPY.

    python benches/gen_sales.py --lines 100000000 --table sales_100m

Every basket of the output is a real basket, resampled: the pool is the
cleaned invoices of UCI Online Retail (20,728 baskets, this repository's
`data/`) and, when `../shared/data` has it, the Instacart sample (15,183
orders). Each output basket gets

- `basket_id`: a running bigint, its lines stored together;
- `store_id` (0..stores-1) and `region_id` (store_id * regions / stores);
- `sold_on`: a day of 2025, stores trade every day;
- `item_id`: the pool item re-mapped into a catalogue `variants` times larger:
  every region sells its own variant of each product (id + variant * pool
  items), so per-region rules exist and a global rule must hold across
  regions.

Same arguments, same table: the random stream depends on the seed and on the
chunk number only. The table is created UNLOGGED in the loading transaction
and filled with COPY FREEZE (no WAL, no later hint-bit writes): the mining
benchmarks read it, nothing writes it. `--lines` is a target; the table ends
on a whole basket, so it holds up to one basket more.
"""
import argparse
import gzip
import os
import pathlib
import struct
import sys
import time

import numpy as np
import psycopg
from psycopg import sql

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("RAR_SHARED_DATA", ROOT.parent / "shared" / "data"))

# One binary COPY row: field count, then (length, value) per field, big-endian.
ROW = np.dtype([
    ("n", ">i2"),
    ("l_basket", ">i4"), ("basket", ">i8"),
    ("l_store", ">i4"), ("store", ">i4"),
    ("l_region", ">i4"), ("region", ">i4"),
    ("l_day", ">i4"), ("day", ">i4"),
    ("l_item", ">i4"), ("item", ">i4"),
])
HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
# 2025-01-01 as PostgreSQL's date: days since 2000-01-01.
EPOCH_2025 = 9131


def _baskets_of(pairs):
    """(basket key, item key) pairs into CSR arrays of dense item ids."""
    items, baskets = {}, {}
    for b, i in pairs:
        baskets.setdefault(b, set()).add(items.setdefault(i, len(items)))
    lists = [sorted(s) for s in baskets.values()]
    return lists, len(items)


def load_pool():
    """The real baskets to resample: (offsets, members, n_items, sources)."""
    import csv
    lists, n_items, names = [], 0, []
    with gzip.open(ROOT / "data" / "online_retail.csv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        next(rows)
        pairs = ((r[0], r[1]) for r in rows if not r[0].startswith("C") and float(r[3]) > 0)
        or_lists, or_items = _baskets_of(pairs)
    lists += or_lists
    n_items += or_items
    names.append(f"Online Retail ({len(or_lists):,} baskets)")
    ic = SHARED / "instacart_sample" / "order_products_sample.csv.gz"
    if ic.exists():
        with gzip.open(ic, "rt", newline="") as f:
            rows = csv.reader(f)
            next(rows)
            ic_lists, ic_items = _baskets_of((r[1], r[7]) for r in rows)
        lists += [[i + n_items for i in b] for b in ic_lists]
        n_items += ic_items
        names.append(f"Instacart sample ({len(ic_lists):,} orders)")
    lens = np.array([len(b) for b in lists], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lens)])
    members = np.fromiter((i for b in lists for i in b), dtype=np.int32, count=int(offsets[-1]))
    return offsets, members, n_items, names


def chunks(lines, pool, seed=42, stores=200, regions=8, variants=4, chunk_baskets=200_000):
    """Yields structured arrays of rows (see ROW), about `lines` in all."""
    offsets, members, n_items, _ = pool
    lens = np.diff(offsets)
    mean_len = lens.mean()
    done, next_basket, k = 0, 0, 0
    while done < lines:
        rng = np.random.default_rng([seed, k])
        want = min(chunk_baskets, max(1, int((lines - done) / mean_len) + 1))
        pick = rng.integers(0, len(lens), want)
        n = lens[pick]
        # Cut the last chunk on the basket that reaches the target.
        ends = np.cumsum(n)
        if done + ends[-1] > lines:
            cut = int(np.searchsorted(ends, lines - done)) + 1
            pick, n, ends = pick[:cut], n[:cut], ends[:cut]
        total = int(ends[-1])
        store = rng.integers(0, stores, len(pick)).astype(np.int32)
        region = (store.astype(np.int64) * regions // stores).astype(np.int32)
        day = rng.integers(0, 365, len(pick)).astype(np.int32) + EPOCH_2025
        # Line j of basket b reads pool member offsets[pick[b]] + j.
        starts = np.repeat(offsets[pick] - (ends - n), n)
        src = starts + np.arange(total)
        variant = (region % variants).astype(np.int64)
        rows = np.empty(total, dtype=ROW)
        rows["n"] = 5
        rows["l_basket"], rows["l_store"], rows["l_region"], rows["l_day"], rows["l_item"] = 8, 4, 4, 4, 4
        rows["basket"] = np.repeat(np.arange(next_basket, next_basket + len(pick), dtype=np.int64), n)
        rows["store"] = np.repeat(store, n)
        rows["region"] = np.repeat(region, n)
        rows["day"] = np.repeat(day, n)
        rows["item"] = members[src] + np.repeat(variant * n_items, n)
        yield rows
        done += total
        next_basket += len(pick)
        k += 1


def load(conn, table, lines, seed=42, stores=200, regions=8, variants=4):
    """Creates `table` (dropping an older one) and fills it. Returns
    (lines, baskets, seconds)."""
    pool = load_pool()
    t0 = time.perf_counter()
    n_lines, n_baskets = 0, 0
    with conn.transaction():
        conn.execute(f"DROP TABLE IF EXISTS {sql.Identifier(table).as_string(conn)}")
        conn.execute(
            sql.SQL("CREATE UNLOGGED TABLE {} (basket_id bigint NOT NULL, store_id int NOT NULL,"
                            " region_id int NOT NULL, sold_on date NOT NULL, item_id int NOT NULL)")
            .format(sql.Identifier(table)))
        copy_sql = sql.SQL("COPY {} FROM STDIN WITH (FORMAT binary, FREEZE)").format(sql.Identifier(table))
        with conn.cursor().copy(copy_sql) as cp:
            cp.write(HEADER)
            for rows in chunks(lines, pool, seed, stores, regions, variants):
                cp.write(rows.tobytes())
                n_lines += len(rows)
                n_baskets = int(rows["basket"][-1]) + 1
            cp.write(TRAILER)
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    return n_lines, n_baskets, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, required=True, help="target number of lines")
    ap.add_argument("--table", required=True)
    ap.add_argument("--dbname", default="rar_bench")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--stores", type=int, default=200)
    ap.add_argument("--regions", type=int, default=8)
    ap.add_argument("--variants", type=int, default=4, help="catalogue variants (per region)")
    a = ap.parse_args()
    with psycopg.connect(host=os.environ.get("PGHOST", "/var/lib/postgresql/rar/run"),
                         port=os.environ.get("PGPORT", "5415"), user=os.environ.get("PGUSER", "postgres"),
                         dbname=a.dbname, autocommit=True) as conn:
        n, b, s = load(conn, a.table, a.lines, a.seed, a.stores, a.regions, a.variants)
    print(f"{a.table}: {n:,} lines, {b:,} baskets in {s:.1f} s ({n / s / 1e6:.2f} M lines/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
