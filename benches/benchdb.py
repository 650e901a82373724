"""The benchmark database: connections to the local cluster (scripts/env.sh)
and a fresh copy of the installed extension."""
import os

import psycopg


def connect(dbname):
    return psycopg.connect(host=os.environ.get("PGHOST", "/var/lib/postgresql/rar/run"),
                           port=os.environ.get("PGPORT", "5415"), user="postgres", dbname=dbname, autocommit=True)


def fresh_extension(dbname):
    """Creates `dbname` when missing, with the installed build of rar in it
    (a bench database holds only bench tables)."""
    with connect("postgres") as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            c.execute(f'CREATE DATABASE "{dbname}"')
    with connect(dbname) as c:
        c.execute("DROP EXTENSION IF EXISTS rar CASCADE")
        c.execute("CREATE EXTENSION rar")
