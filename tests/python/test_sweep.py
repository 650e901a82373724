"""A hostile and careless caller: every public function of the extension
called with NULLs, empty and NULL-holding arrays, extreme numbers, huge sizes
and wrong names, argument by argument. None may answer XX000 (an internal
error: a Rust panic, a foreign backtrace) or take the backend down: a
session opened before the sweep is still connected after it, and the server
log shows no backend terminated by a signal."""
import os
import pathlib

import psycopg
import pytest

from conftest import connect

LOG = pathlib.Path(os.environ.get("RAR_LOG", "/var/lib/postgresql/rar/log/postgresql.log"))
DB = "rar_sweep"

# A value every argument of a type can take, and the values that probe it.
SAMPLE = {
    "regclass": "'sweep_sales'::regclass",
    "text": "'sweep'",
    "text[]": "ARRAY['a', 'b']",
    "double precision": "0.1",
    "double precision[]": "ARRAY[0.5]",
    "integer": "2",
    "bigint": "1",
    "boolean": "false",
    "jsonb": "'{}'::jsonb",
    "regrole": "'rar_reader'::regrole",
}
PROBES = {
    "regclass": ["NULL", "999999::oid::regclass", "'pg_class'::regclass", "'sweep_view'::regclass", "'sweep_empty'::regclass"],
    "text": ["NULL", "''", "repeat('x', 100000)", "E'\\x01\\x1f'", "'nonexistent'", "'rules'", "'neural'", "'graph'"],
    "text[]": ["NULL", "'{}'::text[]", "'{NULL}'::text[]", "array_fill('x'::text, ARRAY[20000])", "ARRAY[repeat('y', 100000)]"],
    "double precision": ["NULL", "'NaN'::float8", "'Infinity'::float8", "'-Infinity'::float8", "-1", "0", "1e308", "1e-308"],
    "double precision[]": ["NULL", "'{}'::float8[]", "'{NULL}'::float8[]"],
    "integer": ["NULL", "-1", "0", "2147483647", "-2147483648"],
    "bigint": ["NULL", "-1", "0", "9223372036854775807", "-9223372036854775808"],
    "boolean": ["NULL", "true"],
    "jsonb": [
        "NULL", "'null'::jsonb", "'[]'::jsonb", "'{\"hidden\": 1e30}'::jsonb", "'{\"max_vocab\": 10000000, \"hidden\": 65536}'::jsonb",
        "'{\"epochs\": [1,2,3,4,5,6,7,8,9,10], \"hidden\": [1,2,3,4,5,6,7,8,9,10], \"seed\": [1,2,3,4,5,6,7,8,9,10], \"layers\": [1,2,3,4,5,6,7,8,9,10]}'::jsonb",
        "'{\"device\": \"cuda\"}'::jsonb", "'{\"hiden\": 3}'::jsonb",
    ],
    "regrole": ["NULL", "'pg_monitor'::regrole"],
}
# Arguments that name a source (a registered source or a table, as text):
# a table to work on, and the names that probe the naming rule.
SOURCE_ARGS = {"source", "target"}
SOURCE_SAMPLE = "'sweep_sales'"
SOURCE_PROBES = ["NULL", "''", "'999999'", "'pg_class'", "'sweep_view'", "'sweep_empty'", "'sweep'", "'nonexistent'",
                 "'a.b.c.d'", "repeat('x', 100000)", "E'\\x01'"]
# Run last: they remove what the others need.
LAST = ["rar_unregister", "rar_revoke"]


def functions(c):
    rows = c.execute(
        """SELECT p.proname, p.prokind, pg_get_function_arguments(p.oid),
                  ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t), coalesce(p.proargnames, '{}')
           FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'rar'
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname <> 'rar' AND p.prokind IN ('f', 'p') ORDER BY p.proname, p.oid"""
    ).fetchall()
    return sorted(rows, key=lambda r: (r[0] in LAST, r[0]))


def defaults(arguments):
    """The DEFAULT expression of each argument (None where there is none),
    from pg_get_function_arguments."""
    parts, depth, cur = [], 0, ""
    for ch in arguments:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch in "([" and 1 or 0
        depth -= ch in ")]" and 1 or 0
        cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.split(" DEFAULT ", 1)[1] if " DEFAULT " in p else None for p in parts]


def calls(name, kind, arguments, types, names):
    """The call with every argument its default (or a sample of its type),
    then one per probe of each argument with the others as in the first."""
    verb = "CALL" if kind == "p" else "SELECT count(*) FROM"
    given = defaults(arguments)
    names = list(names) + [""] * (len(types) - len(names))
    base = [
        SOURCE_SAMPLE if t == "text" and n in SOURCE_ARGS
        else d if d is not None and d.upper() != "NULL" else SAMPLE.get(t, "NULL")
        for t, d, n in zip(types, given + [None] * (len(types) - len(given)), names)
    ]
    yield f"{verb} {name}({', '.join(base)})"
    for i, t in enumerate(types):
        probes = SOURCE_PROBES if t == "text" and names[i] in SOURCE_ARGS else PROBES.get(t, ["NULL"])
        for probe in probes:
            args = list(base)
            args[i] = probe
            yield f"{verb} {name}({', '.join(args)})"


@pytest.fixture(scope="module")
def sweep_db():
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB}")
        c.execute(f"CREATE DATABASE {DB}")
    with connect(DB) as c:
        c.execute("CREATE EXTENSION rar")
        c.execute("CREATE TABLE sweep_sales (tid int, item text, quantity int, price numeric, at timestamp)")
        c.execute(
            "INSERT INTO sweep_sales SELECT b, i, 1 + b % 3, 1 + b % 5, '2024-01-01'::timestamp + b * interval '1 day'"
            " FROM generate_series(1, 300) b, unnest(ARRAY['a', 'b', 'c', 'd', 'e']) i WHERE (b * ascii(i)) % 4 <> 0"
        )
        c.execute("CREATE VIEW sweep_view AS SELECT * FROM sweep_sales")
        c.execute("CREATE TABLE sweep_empty (tid int, item text, quantity int, price numeric)")
    yield DB


def register(c):
    if not c.execute("SELECT 1 FROM rar.sources WHERE name = 'sweep'").fetchone():
        c.execute("SELECT rar_register('sweep', 'sweep_sales', 'tid', 'item')")
        c.execute("CALL rar_refresh('sweep', min_support => 0.1)")


@pytest.mark.parametrize("role", ["postgres", "rar_sweep_reader"])
def test_no_input_gives_an_internal_error_or_a_crash(sweep_db, role):
    """As the superuser (every path open), and as a role with SELECT only
    on the table (the refusals' paths)."""
    log_start = LOG.stat().st_size if LOG.exists() else 0
    sentinel = connect(sweep_db)
    internal, states, n = [], {}, 0
    with connect(sweep_db) as c:
        c.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rar_sweep_reader') THEN "
                  "CREATE ROLE rar_sweep_reader; END IF; END $$")
        c.execute("GRANT SELECT ON sweep_sales, sweep_view, sweep_empty TO rar_sweep_reader")
        c.execute("SET statement_timeout = '20s'")
        c.execute("SET rar.memory_limit = '256MB'")
        for name, kind, arguments, types, names in functions(c):
            c.execute("RESET ROLE")
            register(c)
            c.execute(f"SET ROLE {role}")
            for sql in calls(name, kind, arguments, types, names):
                n += 1
                try:
                    c.execute(sql)
                    state = "00000"
                except psycopg.Error as e:
                    state = e.sqlstate or "?"
                    if state == "XX000" or state is None:
                        internal.append((sql[:200], str(e)[:300]))
                except psycopg.OperationalError as e:  # the connection died
                    pytest.fail(f"{sql[:200]} took the connection down: {e}")
                states[state] = states.get(state, 0) + 1
        c.execute("RESET ROLE")
    print(f"{n} calls as {role}; SQLSTATEs: {sorted(states.items())}")
    assert n > 500
    assert internal == [], internal
    assert sentinel.execute("SELECT 1").fetchone() == (1,), "a session opened before the sweep is still connected"
    sentinel.close()
    log = LOG.read_bytes()[log_start:].decode(errors="replace") if LOG.exists() else ""
    assert "terminated by signal" not in log
    assert "was terminated" not in log


def test_a_database_that_is_not_utf8_is_refused_at_create_extension():
    """Items are read as UTF-8; in another encoding every text argument
    would be an internal error, so the extension refuses to install."""
    with connect("postgres") as c:
        c.execute("DROP DATABASE IF EXISTS rar_ascii")
        c.execute("CREATE DATABASE rar_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    try:
        with connect("rar_ascii") as c:
            with pytest.raises(psycopg.errors.FeatureNotSupported) as e:
                c.execute("CREATE EXTENSION rar")
            assert "UTF8" in str(e.value)
            assert c.execute("SELECT count(*) FROM pg_extension WHERE extname = 'rar'").fetchone()[0] == 0
    finally:
        with connect("postgres") as c:
            c.execute("DROP DATABASE IF EXISTS rar_ascii")


def test_aggregates_take_any_input_without_an_internal_error(sweep_db):
    """rar_rules_agg and rar.baskets / rar.baskets_state with NULLs, empty
    and huge items, extreme thresholds, and as window functions."""
    thresholds = ["NULL", "0", "-1", "'NaN'::float8", "'Infinity'::float8", "1e-308", "0.5", "2"]
    lengths = ["NULL", "-1", "0", "33", "2147483647", "4"]
    items = ["item", "NULL::text", "''", "repeat(item, 10000)", "E'\\\\x01'"]
    sqls = []
    for s in thresholds:
        for c in ["0.1", s]:
            for m in lengths:
                sqls.append(f"SELECT rar_rules_agg(tid, item, {s}, {c}, {m}) FROM sweep_sales")
    for i in items:
        sqls.append(f"SELECT rar_rules_agg(tid, {i}, 0.1, 0.1) FROM sweep_sales GROUP BY tid % 3")
        sqls.append(f"SELECT rar_rules_agg(tid::bigint, ascii({i})::bigint, 0.1, 0.1) FROM sweep_sales")
        sqls.append(f"SELECT length(rar.baskets_state(tid::text, {i})) FROM sweep_sales")
        sqls.append(f"SELECT rar.baskets(tid::text, {i}) FROM sweep_sales")
    sqls.append("SELECT rar_rules_agg(tid, item, 0.1, 0.1) OVER () FROM sweep_sales")
    sqls.append("SELECT rar_rules_agg(tid, item, 0.1, 0.1) FROM sweep_sales WHERE false")
    internal, states = [], {}
    with connect(sweep_db) as c:
        c.execute("SET statement_timeout = '20s'")
        for sql in sqls:
            try:
                c.execute(sql)
                state = "00000"
            except psycopg.Error as e:
                state = e.sqlstate
                if state == "XX000" or state is None:
                    internal.append((sql, str(e)[:300]))
            states[state] = states.get(state, 0) + 1
        assert c.execute("SELECT 1").fetchone() == (1,)
    print(f"{len(sqls)} aggregate calls; SQLSTATEs: {sorted(states.items())}")
    assert internal == [], internal
