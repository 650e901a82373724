"""Shared fixtures: connections to the local cluster started by
scripts/setup.sh, and a scratch database with the shipped data sets."""
import csv
import gzip
import os
import pathlib

import psycopg
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
DB = "rar_pytest"


def connect(dbname=DB, port=None, **kw):
    return psycopg.connect(
        host=os.environ.get("PGHOST", "/var/lib/postgresql/rar/run"),
        port=port or os.environ.get("PGPORT", "5415"),
        user="postgres",
        dbname=dbname,
        autocommit=True,
        **kw,
    )


@pytest.fixture(scope="session")
def db():
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB}")
        c.execute(f"CREATE DATABASE {DB}")
    with connect() as c:
        c.execute("CREATE EXTENSION rar")
        c.execute("CREATE TABLE groceries (transaction_id int, item text)")
        with c.cursor().copy("COPY groceries FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write((DATA / "groceries.csv").read_bytes())
        c.execute(
            "CREATE TABLE online_retail (invoice_no text, stock_code text, description text, quantity int,"
            " invoice_date timestamp, unit_price numeric, customer_id text, country text)"
        )
        with c.cursor().copy("COPY online_retail FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write(gzip.decompress((DATA / "online_retail.csv.gz").read_bytes()))
        c.execute(
            "CREATE VIEW online_retail_sales AS SELECT invoice_no, stock_code FROM online_retail"
            " WHERE quantity > 0 AND invoice_no NOT LIKE 'C%'"
        )
    yield connect


def baskets_from_csv(rows):
    """Baskets (sets of items) from (basket, item) pairs, in first-seen order."""
    out = {}
    for t, i in rows:
        out.setdefault(t, set()).add(i)
    return list(out.values())


def groceries_baskets():
    with open(DATA / "groceries.csv", newline="") as f:
        r = csv.reader(f)
        next(r)
        return baskets_from_csv(r)


def online_retail_baskets():
    with gzip.open(DATA / "online_retail.csv.gz", "rt", newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        return baskets_from_csv(
            (row["InvoiceNo"], row["StockCode"])
            for row in r
            if int(row["Quantity"]) > 0 and not row["InvoiceNo"].startswith("C")
        )
