"""The extension's life: upgrade in place from 0.1.0, pg_dump/pg_restore into
a new database on the same and on a fresh cluster, and DROP EXTENSION, each
with a populated catalog: nothing lost, every function working first time,
and an upgraded catalog identical to a fresh one."""
import os
import pathlib
import shutil
import subprocess
import tempfile

import psycopg
import pytest

from conftest import DATA, connect

PG_BIN = pathlib.Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SOCKETS = os.environ.get("PGHOST", "/var/lib/postgresql/rar/run")
PORT = os.environ.get("PGPORT", "5415")
FRESH_HOME = pathlib.Path(os.environ.get("RAR_HOME", "/var/lib/postgresql/rar")) / "fresh"
FRESH_PORT = 5418
VERSION = next(
    line.split('"')[1] for line in (DATA.parent / "Cargo.toml").read_text().splitlines() if line.startswith("version")
)
TABLES = ["sources", "source_grants", "rule_sets", "rule_store", "models", "splits", "encodings", "clean_log", "tuning_trials"]

# Every object of the extension with its definition: what a fresh install
# and an upgraded one must agree on.
CATALOG = """
SELECT 'function ' || p.oid::regprocedure || ' ' || pg_get_functiondef(p.oid) || coalesce(p.proacl::text, '')
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'rar' WHERE p.prokind <> 'a'
UNION ALL
SELECT 'aggregate ' || p.oid::regprocedure || ' ' || a.aggtransfn || a.aggfinalfn || a.aggcombinefn || a.aggfinalmodify::text
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e' JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'rar'
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
       || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
WHERE c.relnamespace = 'rar'::regnamespace
UNION ALL
SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' rls ' || c.relrowsecurity || ' ' || coalesce(c.reloptions::text, '')
       || ' ' || coalesce(c.relacl::text, '')
FROM pg_class c WHERE c.relnamespace = 'rar'::regnamespace
UNION ALL
SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'rar'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'rar'::regnamespace
UNION ALL
SELECT 'policy ' || tablename || ' ' || policyname || ' ' || cmd || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '')
FROM pg_policies WHERE schemaname = 'rar'
UNION ALL
SELECT 'view ' || viewname || ' ' || definition FROM pg_views WHERE schemaname = 'rar'
UNION ALL
SELECT 'dumped ' || c::regclass FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'rar'
UNION ALL
SELECT 'event trigger ' || evtname || ' ' || evtevent || ' ' || evtfoid::regproc || ' ' || evttags::text FROM pg_event_trigger
ORDER BY 1
"""


def catalog(c):
    return [r[0] for r in c.execute(CATALOG)]


def fresh_db(name, version=None):
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {name}")
        c.execute(f"CREATE DATABASE {name}")
    with connect(name) as c:
        c.execute(f"CREATE EXTENSION rar VERSION '{version}'" if version else "CREATE EXTENSION rar")


def populate(c, tune=True):
    """Every catalog table gets rows: a source with rule sets and a grant, a
    split, a model (deployed), an encoding, a cleaning run with a
    quarantine, tuning trials."""
    c.execute("CREATE TABLE g (transaction_id int, item text, qty int, price numeric)")
    with c.cursor().copy("COPY g (transaction_id, item) FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
        cp.write((DATA / "groceries.csv").read_bytes())
    c.execute("UPDATE g SET qty = 1 + transaction_id % 3, price = 1 + transaction_id % 7")
    c.execute("INSERT INTO g VALUES (999999, ' whole milk ', 0, 1), (999999, 'yogurt', 2, 1)")
    c.execute("SELECT * FROM rar_split('g')")
    c.execute("SELECT * FROM rar_clean('g', quantity_column => 'qty', price_column => 'price')")
    c.execute("SELECT * FROM rar_encode('g', ARRAY['price'], 'bins')")
    c.execute("SELECT rar_register('groceries', 'g', 'transaction_id', 'item')")
    c.execute("CALL rar_refresh('groceries', min_support => 0.01)")
    c.execute("CALL rar_refresh('groceries', min_support => 0.02)")
    c.execute("SELECT * FROM rar_train('g', 'mlp', '{\"epochs\": 1, \"hidden\": 32, \"device\": \"cpu\"}', 'transaction_id', 'item')")
    if tune:
        c.execute("SELECT * FROM rar_tune('g', 'mlp', '{\"hidden\": [16, 32]}', '{\"epochs\": 1, \"device\": \"cpu\"}')")
    if c.execute("SELECT 1 FROM pg_proc WHERE proname = 'rar_grant'").fetchone():
        c.execute("SELECT rar_grant('groceries', 'rar_reader')")


def snapshot(c):
    """What must survive: row counts of every catalog table, the weights of
    every model, the rules, the quarantine."""
    counts = {}
    for t in TABLES:
        if c.execute("SELECT to_regclass(%s)", (f"rar.{t}",)).fetchone()[0]:
            counts[t] = c.execute(f"SELECT count(*) FROM rar.{t}").fetchone()[0]
    weights = c.execute("SELECT model_id, md5(weights), deployed FROM rar.models ORDER BY model_id").fetchall()
    rules = c.execute(
        "SELECT md5(string_agg(antecedent::text || consequent::text || confidence::text, ',' ORDER BY rule_id)) FROM rar.rules"
    ).fetchone()[0]
    quarantine = c.execute("SELECT count(*) FROM g_rar_rejected").fetchone()[0]
    return counts, weights, rules, quarantine


def works_first_time(c):
    """Every function a nightly job or an application calls, first time."""
    c.execute("CALL rar_refresh('groceries', min_support => 0.01)")
    model = c.execute(
        "SELECT model_id FROM rar_train('g', 'mlp', '{\"epochs\": 1, \"hidden\": 16, \"device\": \"cpu\"}', 'transaction_id', 'item')"
    ).fetchone()[0]
    assert model > c.execute("SELECT min(model_id) FROM rar.models").fetchone()[0]
    c.execute("INSERT INTO g VALUES (888888, NULL, 1, 1)")
    c.execute("SELECT * FROM rar_clean('g', quantity_column => 'qty', price_column => 'price')")
    assert c.execute(
        "SELECT count(*) FROM rar_recommend(ARRAY['citrus fruit', 'root vegetables', 'tropical fruit', 'yogurt'], source => 'groceries')"
    ).fetchone()[0] > 0
    assert c.execute(
        "SELECT count(*) FROM rar_recommend(ARRAY['whole milk'], source => 'groceries', method => 'model')"
    ).fetchone()[0] > 0
    assert c.execute(
        "SELECT count(*) FROM rar_mine('g', min_support => 0.01, method => 'neural', tid_column => 'transaction_id', item_column => 'item')"
    ).fetchone()[0] >= 0
    assert c.execute("SELECT count(*) FROM rar_mine('g_rar_items', min_support => 0.05, min_confidence => 0.1)").fetchone()[0] > 0


def test_upgrade_from_0_1_0_keeps_everything_and_matches_a_fresh_install():
    fresh_db("rar_fresh")
    with connect("rar_fresh") as c:
        want = catalog(c)
    fresh_db("rar_upgrade", "0.1.0")
    with connect("rar_upgrade") as c:
        populate(c, tune=True)
        before = snapshot(c)
        c.execute("ALTER EXTENSION rar UPDATE")
        assert c.execute("SELECT extversion FROM pg_extension WHERE extname = 'rar'").fetchone()[0] == VERSION
        after = snapshot(c)
        assert after[0] == {**before[0], "source_grants": 0}
        assert after[1:] == before[1:]
        got = catalog(c)
        assert [x for x in got if x not in want] == [] and [x for x in want if x not in got] == []
        works_first_time(c)
        # A cleaning run of 0.1.0 is restored: its removed lines come back.
        assert c.execute("SELECT rar_restore('g')").fetchone()[0] > 0


def dump(db):
    path = pathlib.Path(tempfile.mkdtemp()) / "rar.dump"
    subprocess.run(["pg_dump", "-h", SOCKETS, "-p", PORT, "-U", "postgres", "-Fc", "-f", str(path), db], check=True)
    return path


def restore(path, db, port):
    with connect("postgres", port=port) as c:
        c.execute(f"DROP DATABASE IF EXISTS {db}")
        c.execute(f"CREATE DATABASE {db}")
    subprocess.run(
        ["pg_restore", "-h", SOCKETS, "-p", str(port), "-U", "postgres", "--exit-on-error", "-d", db, str(path)], check=True
    )


@pytest.fixture(scope="module")
def fresh_cluster():
    """A second PostgreSQL cluster, empty, with rar installed in its binaries."""
    shutil.rmtree(FRESH_HOME, ignore_errors=True)
    FRESH_HOME.mkdir(parents=True)
    shutil.chown(FRESH_HOME, "postgres", "postgres")
    run = lambda *cmd: subprocess.run(["runuser", "-u", "postgres", "--", *map(str, cmd)], check=True, capture_output=True)
    d = FRESH_HOME / "data"
    try:
        run(PG_BIN / "initdb", "-D", d, "-U", "postgres", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8")
        with open(d / "postgresql.conf", "a") as f:
            f.write(f"port = {FRESH_PORT}\nunix_socket_directories = '{SOCKETS}'\nlisten_addresses = ''\n")
        run(PG_BIN / "pg_ctl", "-D", d, "-l", FRESH_HOME / "log", "-w", "start")
        yield FRESH_PORT
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(d), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(FRESH_HOME, ignore_errors=True)


@pytest.mark.parametrize("where", ["same cluster", "fresh cluster"])
def test_dump_and_restore_round_trip(where, request):
    fresh_db("rar_dumped")
    with connect("rar_dumped") as c:
        populate(c)
        before = snapshot(c)
        assert all(n > 0 for t, n in before[0].items()), before[0]
    path = dump("rar_dumped")
    port = int(PORT) if where == "same cluster" else request.getfixturevalue("fresh_cluster")
    restore(path, "rar_restored", port)
    with connect("rar_restored", port=port) as c:
        assert snapshot(c) == before
        works_first_time(c)


def test_drop_refuses_without_cascade_and_a_new_install_does_not_collide():
    fresh_db("rar_dropped")
    with connect("rar_dropped") as c:
        populate(c, tune=False)
        old_runs = c.execute("SELECT max(rar_run) FROM g_rar_rejected").fetchone()[0]
        quarantined = c.execute("SELECT count(*) FROM g_rar_rejected WHERE rar_action = 'removed'").fetchone()[0]
        with pytest.raises(psycopg.errors.DependentObjectsStillExist) as e:
            c.execute("DROP EXTENSION rar")
        assert "models" in str(e.value.diag.message_detail)
        assert c.execute("SELECT count(*) FROM rar.models").fetchone()[0] > 0, "nothing was dropped"
        c.execute("DROP EXTENSION rar CASCADE")
        # The quarantine is the table owner's data: it stays.
        assert c.execute("SELECT count(*) FROM g_rar_rejected").fetchone()[0] > 0
        c.execute("CREATE EXTENSION rar")
        # The table's owner, not a superuser, cleans it after the re-create.
        c.execute("DROP ROLE IF EXISTS rar_lc_owner")
        c.execute("CREATE ROLE rar_lc_owner")
        c.execute("ALTER TABLE g OWNER TO rar_lc_owner")
        c.execute("ALTER TABLE g_rar_rejected OWNER TO rar_lc_owner")
        c.execute("SET ROLE rar_lc_owner")
        c.execute("INSERT INTO g VALUES (777777, NULL, 1, 1)")
        c.execute("SELECT * FROM rar_clean('g', quantity_column => 'qty', price_column => 'price')")
        run = c.execute("SELECT max(run) FROM rar.clean_log").fetchone()[0]
        assert run > old_runs, "run numbers continue past the old quarantine's"
        assert c.execute("SELECT rar_restore('g', run => %s)", (run,)).fetchone()[0] == 1
        left = c.execute("SELECT count(*) FROM g_rar_rejected WHERE rar_action = 'removed'").fetchone()[0]
        assert left == quarantined, "the old run's lines stay in the quarantine"
        c.execute("RESET ROLE")
        c.execute("DROP TABLE g, g_rar_rejected CASCADE")
        c.execute("DROP ROLE rar_lc_owner")
        # With nothing left, a plain DROP works.
        c.execute("DROP EXTENSION rar CASCADE")
        c.execute("CREATE EXTENSION rar")
        c.execute("DROP EXTENSION rar")


def test_other_drops_of_the_extension_are_refused_while_it_holds_work():
    """DROP SCHEMA ... CASCADE of its schema, DROP OWNED BY its owner or its
    schema's, DROP EXTENSION plpgsql CASCADE and a replicating session's DROP
    EXTENSION would delete every role's models as surely as DROP EXTENSION
    does; counted whatever rows the dropping role's row security shows."""
    fresh_db("rar_dropped2")
    with connect("rar_dropped2") as c:
        c.execute("DROP ROLE IF EXISTS rar_lc_dba")
        c.execute("DROP ROLE IF EXISTS rar_lc_dbowner")
        c.execute("CREATE ROLE rar_lc_dba SUPERUSER")
        c.execute("CREATE ROLE rar_lc_dbowner")
        c.execute("DROP EXTENSION rar")
        c.execute("CREATE SCHEMA app AUTHORIZATION rar_lc_dbowner")
        c.execute("SET ROLE rar_lc_dba")
        c.execute("CREATE EXTENSION rar SCHEMA app")
        c.execute("RESET ROLE")
        c.execute("CREATE TABLE s (basket int, item text)")
        c.execute("INSERT INTO s SELECT g / 2, 'i' || (g % 4) FROM generate_series(1, 200) g")
        c.execute("SELECT app.rar_register('s_src', 's', 'basket', 'item')")
        c.execute("CALL app.rar_refresh('s_src', min_support => 0.05)")
        try:
            # The schema's owner sees none of the rule sets (of a table it
            # may not read).
            c.execute("SET ROLE rar_lc_dbowner")
            assert c.execute("SELECT count(*) FROM rar.rule_sets").fetchone()[0] == 0
            with pytest.raises(psycopg.errors.DependentObjectsStillExist) as e:
                c.execute("DROP SCHEMA app CASCADE")
            assert "1 rule sets" in str(e.value.diag.message_detail)
            # The schema's owner, dropping what it owns: the schema, so rar.
            with pytest.raises(psycopg.errors.DependentObjectsStillExist):
                c.execute("DROP OWNED BY CURRENT_USER CASCADE")
            c.execute("RESET ROLE")
            for stmt in ["DROP OWNED BY rar_lc_dba", "DROP SCHEMA rar CASCADE", "DROP EXTENSION plpgsql CASCADE"]:
                with pytest.raises(psycopg.errors.DependentObjectsStillExist):
                    c.execute(stmt)
            c.autocommit = False
            c.execute("SET LOCAL session_replication_role = replica")
            with pytest.raises(psycopg.errors.DependentObjectsStillExist):
                c.execute("DROP EXTENSION rar")
            c.rollback()
            c.autocommit = True
            assert c.execute("SELECT count(*) FROM rar.sources").fetchone()[0] == 1, "nothing was dropped"
            # Naming the extension with CASCADE still deletes it.
            c.execute("DROP EXTENSION rar CASCADE")
            c.execute("DROP SCHEMA app CASCADE")
        finally:
            c.rollback() if not c.autocommit else None
            c.autocommit = True
            c.execute("RESET ROLE")
            c.execute("DROP EXTENSION IF EXISTS rar CASCADE")
            c.execute("DROP SCHEMA IF EXISTS app CASCADE")
            c.execute("DROP ROLE rar_lc_dba")
            c.execute("DROP ROLE rar_lc_dbowner")


PLANT_TYPES = ["oid", "regclass", "regnamespace", "regproc", "int2", "int4", "int8", "float8", "numeric",
               "text", "name", "text[]", "int8[]", "float8[]", "boolean", "\"char\"", "timestamptz", "jsonb"]
PLANT_OPS = {"=": "boolean", "<>": "boolean", "<": "boolean", "<=": "boolean", ">": "boolean",
             ">=": "boolean", "~": "boolean", "+": "float8", "-": "float8", "*": "float8", "/": "float8",
             "||": "text"}
PLANT_FUNCS = [("lag", "int8", "int8"), ("lag", "float8", "float8"), ("lag", "text", "text"),
               ("lead", "int8", "int8"), ("unnest", "text[]", "SETOF text"), ("unnest", "int8[]", "SETOF int8"),
               ("cardinality", "text[]", "int4"), ("array_length", "text[], int4", "int4"),
               ("array_position", "text[], text", "int4"), ("first_value", "float8", "float8")]


def plant(c):
    """Operators and functions in public that beat pg_catalog's for
    argument types pg_catalog matches only through a coercion or a
    polymorphic type: what an untrusted owner of public could leave there
    before the extension is installed or updated."""
    c.execute("CREATE TABLE public.planted_ran (n int)")
    n = 0
    for op, ret in PLANT_OPS.items():
        for left in PLANT_TYPES:
            for right in PLANT_TYPES:
                exact = c.execute(
                    "SELECT EXISTS (SELECT FROM pg_operator WHERE oprname = %s AND oprleft = %s::regtype"
                    " AND oprright = %s::regtype)", (op, left, right)).fetchone()[0]
                if exact:
                    continue
                n += 1
                c.execute(f"CREATE FUNCTION public.planted_{n}(a {left}, b {right}) RETURNS {ret}"
                          f" LANGUAGE sql AS $$ SELECT NULL::{ret} $$")
                c.execute(f"CREATE OPERATOR public.{op} (LEFTARG = {left}, RIGHTARG = {right},"
                          f" FUNCTION = public.planted_{n})")
    for k, (name, args, ret) in enumerate(PLANT_FUNCS):
        if name in ("lag", "lead", "first_value"):
            # An aggregate of that name and an exact type is chosen over
            # pg_catalog's polymorphic window function.
            c.execute(f"CREATE FUNCTION public.planted_step_{k}(s {args}, v {args}) RETURNS {args}"
                      " LANGUAGE sql AS $$ SELECT v $$")
            c.execute(f"CREATE AGGREGATE public.{name}({args}) (SFUNC = public.planted_step_{k}, STYPE = {args})")
        else:
            c.execute(f"CREATE FUNCTION public.{name}({args}) RETURNS {ret} LANGUAGE sql"
                      f" AS $$ SELECT NULL::{ret.removeprefix('SETOF ')} $$")


def captured(c):
    """pg_depend rows from anything but the planted objects to them (every
    comparison here between the same types: the planted operators take
    mixed ones)."""
    return c.execute(
        "WITH planted AS (SELECT 'pg_proc'::regclass::oid AS cls, p.oid FROM pg_proc p"
        "                 WHERE p.pronamespace = 'public'::regnamespace::oid AND NOT EXISTS ("
        "                   SELECT FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass::oid AND e.objid = p.oid"
        "                   AND e.deptype = 'e'::\"char\")"
        "                 UNION ALL SELECT 'pg_operator'::regclass::oid, o.oid FROM pg_operator o"
        "                 WHERE o.oprnamespace = 'public'::regnamespace::oid)"
        " SELECT pg_describe_object(d.classid, d.objid, d.objsubid) || ' -> '::text"
        "        || pg_describe_object(d.refclassid, d.refobjid, 0)"
        " FROM pg_depend d JOIN planted p ON d.refclassid = p.cls AND d.refobjid = p.oid"
        " WHERE NOT EXISTS (SELECT FROM planted q WHERE q.cls = d.classid AND q.oid = d.objid)"
        " ORDER BY 1").fetchall()


@pytest.mark.parametrize("how", ["install", "update"])
def test_operators_planted_in_public_before_install_are_never_bound(how):
    """The views, policies and SQL-standard bodies of the extension bind
    their operators and functions when they are made: with only pg_catalog
    on the search path, never to what a role planted in the extension's
    schema before CREATE EXTENSION (or before ALTER EXTENSION UPDATE)."""
    db = f"rar_pytest_plant_{how}"
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {db}")
        c.execute(f"CREATE DATABASE {db}")
    try:
        with connect(db) as c:
            if how == "update":
                c.execute("CREATE EXTENSION rar VERSION '0.1.0'")
            plant(c)
            assert c.execute(
                "SELECT count(*) FROM pg_operator WHERE oprnamespace = 'public'::regnamespace::oid").fetchone()[0] > 1000
            c.execute("CREATE EXTENSION rar" if how == "install" else "ALTER EXTENSION rar UPDATE")
            assert captured(c) == []
    finally:
        with connect("postgres") as c:
            c.execute(f"DROP DATABASE IF EXISTS {db}")


def test_an_extension_schema_whose_name_needs_quotes_works():
    """The install script writes the schema's name as SQL quotes it
    ("RarExt"): rar's check of that name, made first by each of its PL/pgSQL
    functions, takes it so, and a refresh works there."""
    db = "rar_pytest_quoted"
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {db}")
        c.execute(f"CREATE DATABASE {db}")
    try:
        with connect(db) as c:
            c.execute('CREATE SCHEMA "RarExt"')
            c.execute('CREATE EXTENSION rar SCHEMA "RarExt"')
            c.execute("CREATE TABLE public.lines (basket int, item text)")
            c.execute("INSERT INTO public.lines SELECT g / 3, 'i' || (g % 4) FROM generate_series(1, 90) g")
            c.execute("""SELECT "RarExt".rar_register('lines', 'public.lines', 'basket', 'item')""")
            c.execute("""CALL "RarExt".rar_refresh('lines', min_support => 0.05, min_confidence => 0.1)""")
            assert c.execute("SELECT count(*) FROM rar.rules WHERE source = 'lines'").fetchone()[0] > 0
    finally:
        with connect("postgres") as c:
            c.execute(f"DROP DATABASE IF EXISTS {db}")
