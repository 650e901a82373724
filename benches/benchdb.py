"""The benchmark database: connections to the local cluster (scripts/env.sh),
a fresh copy of the installed extension, and another build of its library
or extension script put in place (paired timings of two builds)."""
import os
import shutil
import subprocess

import psycopg


def connect(dbname, user="postgres"):
    return psycopg.connect(host=os.environ.get("PGHOST", "/var/lib/postgresql/rar/run"),
                           port=os.environ.get("PGPORT", "5415"), user=user, dbname=dbname, autocommit=True)


def fresh_extension(dbname):
    """Creates `dbname` when missing, with the installed build of rar in it
    (a bench database holds only bench tables)."""
    with connect("postgres") as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            c.execute(f'CREATE DATABASE "{dbname}"')
    with connect(dbname) as c:
        c.execute("DROP EXTENSION IF EXISTS rar CASCADE")
        c.execute("CREATE EXTENSION rar")


def install_library(path):
    """Puts the build `path` in place of the cluster's rar.so, atomically:
    backends started from then on load it (rar is not preloaded, so no
    restart is needed); running ones keep the library they loaded."""
    lib = os.path.join(subprocess.check_output(["pg_config", "--pkglibdir"], text=True).strip(), "rar.so")
    shutil.copyfile(path, lib + ".tmp")
    os.chmod(lib + ".tmp", 0o755)
    os.replace(lib + ".tmp", lib)


def install_script(path, version="0.2.0"):
    """Puts the extension script `path` in place of the cluster's
    rar--`version`.sql: a `CREATE EXTENSION` from then on runs it."""
    ext = os.path.join(subprocess.check_output(["pg_config", "--sharedir"], text=True).strip(), "extension")
    target = os.path.join(ext, f"rar--{version}.sql")
    shutil.copyfile(path, target + ".tmp")
    os.replace(target + ".tmp", target)
