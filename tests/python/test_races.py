"""A table's owner changes its definition while another role's call waits for
its lock (the table made a view, a column given a type with a cast of its
own): what the call checked must be what it reads. Each test holds the
owner's ACCESS EXCLUSIVE lock in one session, starts the call in another,
then commits the change; the owner's function records whether it ran with
a superuser's rights."""
import threading
import time

import psycopg
import pytest

from conftest import connect

OWNER = "race_owner"


@pytest.fixture()
def owned(db):
    """A table of 100 baskets owned by a role without superuser, and that
    role's function that notes when it runs as a superuser."""
    with connect() as c:
        c.execute("DROP SCHEMA IF EXISTS race CASCADE")
        if c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER,)).fetchone():
            c.execute(f"DROP OWNED BY {OWNER}")
            c.execute(f"DROP ROLE {OWNER}")
        c.execute(f"CREATE ROLE {OWNER}")
        c.execute(f"CREATE SCHEMA race AUTHORIZATION {OWNER}")
        c.execute(f"SET ROLE {OWNER}")
        c.execute("CREATE TABLE race.noted (who text, super bool)")
        c.execute("CREATE TABLE race.t (basket int, item text)")
        c.execute("INSERT INTO race.t SELECT g / 3, 'i' || (g % 5) FROM generate_series(1, 300) g")
        c.execute(
            "CREATE FUNCTION race.note() RETURNS boolean LANGUAGE sql AS $$"
            " INSERT INTO race.noted SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
            " RETURNING true $$"
        )
        c.execute("RESET ROLE")
    yield
    with connect() as c:
        c.execute("DROP SCHEMA race CASCADE")
        c.execute(f"DROP OWNED BY {OWNER}")
        c.execute(f"DROP ROLE {OWNER}")


def change_while_waiting(call, change, isolation=None, table="race.t"):
    """Runs `change` (as the owner, holding its lock) while `call` (as the
    superuser) waits for the lock; returns the call's error or rows, and
    whether the owner's function ran as a superuser."""
    owner = connect()
    owner.execute(f"SET ROLE {OWNER}")
    owner.autocommit = False
    owner.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    got = {}

    def victim():
        with connect() as v:
            try:
                if isolation:
                    v.autocommit = False
                    v.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
                    v.execute("SELECT 1")  # the snapshot predates the change
                got["rows"] = v.execute(call).fetchall()
                if isolation:
                    v.commit()
            except psycopg.Error as e:
                got["error"] = e

    t = threading.Thread(target=victim)
    t.start()
    with connect() as w:
        for _ in range(200):
            if w.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass", (table,)).fetchone()[0]:
                break
            time.sleep(0.02)
    for stmt in change:
        owner.execute(stmt)
    owner.commit()
    owner.close()
    t.join(60)
    with connect() as c:
        ran_as_super = c.execute("SELECT count(*) FROM race.noted WHERE super").fetchone()[0]
    return got, ran_as_super


def call_in_thread(call):
    """Starts `call` (as the superuser) on a thread: the thread, and the
    dict its rows land in under "rows" (or its error under "error")."""
    got = {}

    def victim():
        with connect() as v:
            try:
                got["rows"] = v.execute(call).fetchall()
            except psycopg.Error as e:
                got["error"] = e

    t = threading.Thread(target=victim)
    t.start()
    return t, got


def assert_refused(got, ran, codes=("42501",)):
    """The call failed with one of `codes` and nothing of the owner's ran as
    a superuser."""
    assert ran == 0
    assert "error" in got, got
    assert got["error"].sqlstate in codes, got["error"]


MADE_A_VIEW = [
    "DELETE FROM race.t",
    "CREATE RULE \"_RETURN\" AS ON SELECT TO race.t DO INSTEAD"
    " SELECT g / 3 AS basket, 'i' || (g % 5) AS item FROM generate_series(1, 300) g WHERE race.note()",
]


@pytest.mark.parametrize("isolation", [None, "REPEATABLE READ"])
def test_a_table_made_a_view_while_a_superuser_waits_runs_nothing_of_its_owner(owned, isolation):
    got, ran = change_while_waiting(
        "SELECT count(*) FROM rar_mine('race.t', min_support => 0.01, min_confidence => 0.1)", MADE_A_VIEW, isolation
    )
    # The definition read under the lock is the view's, which a superuser
    # does not read (or, where no fresh snapshot can be taken, 40001).
    assert_refused(got, ran, ("42501", "40001"))


def test_a_column_type_changed_while_a_scheduled_refresh_waits_runs_no_cast_of_its_owner(owned):
    with connect() as c:
        c.execute(f"SET ROLE {OWNER}")
        c.execute("CREATE TYPE race.e AS ENUM ('i0', 'i1', 'i2', 'i3', 'i4')")
        c.execute(
            "CREATE FUNCTION race.e_text(race.e) RETURNS text LANGUAGE sql AS"
            " $$ SELECT CASE WHEN race.note() THEN pg_catalog.format('%s', $1) END $$"
        )
        c.execute("CREATE CAST (race.e AS text) WITH FUNCTION race.e_text(race.e) AS IMPLICIT")
        c.execute("SELECT rar_register('race_s', 'race.t', 'basket', 'item')")
        c.execute("RESET ROLE")
    got, ran = change_while_waiting(
        "CALL rar_refresh('race_s', min_support => 0.01, min_confidence => 0.1)",
        ["ALTER TABLE race.t ALTER COLUMN item TYPE race.e USING item::race.e"],
    )
    # Refused as a type a role owns (42501), or as a definition that changed
    # while it was read (40001): never read.
    assert_refused(got, ran, ("42501", "40001"))


def test_an_unchanged_table_is_read_after_the_wait(owned):
    got, ran = change_while_waiting(
        "SELECT count(*) FROM rar_mine('race.t', min_support => 0.01, min_confidence => 0.1)",
        ["INSERT INTO race.t VALUES (1000, 'i1')"],
    )
    assert ran == 0
    assert got.get("rows", [[0]])[0][0] > 0, got


def test_a_role_without_rights_on_a_table_takes_no_lock_on_it(owned):
    """A call that reads nothing of a table it may not read (a rule lookup of
    a source granted to it) must not hold up its owner's ALTER TABLE."""
    with connect() as c:
        c.execute("DROP ROLE IF EXISTS race_reader")
        c.execute("CREATE ROLE race_reader")
        c.execute("GRANT USAGE ON SCHEMA race TO race_reader")
        try:
            c.autocommit = False
            c.execute("SET ROLE race_reader")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute("SELECT * FROM rar_mine('race.t')")
            c.rollback()
            c.execute("SET ROLE race_reader")
            c.execute("SELECT rar.lock_for_read('race.t')")
            held = c.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'race.t'::regclass").fetchone()[0]
            assert held == 0
            c.rollback()
        finally:
            c.rollback()
            c.autocommit = True
            c.execute("DROP OWNED BY race_reader")
            c.execute("DROP ROLE race_reader")


def test_an_index_made_while_a_superuser_waits_is_seen_by_its_checks(owned):
    """The checks on a table's code (an index predicate's function, which
    the planner runs) read the definition as committed after the wait, not
    the statement's snapshot from before it."""
    with connect() as c:
        c.execute(f"SET ROLE {OWNER}")
        c.execute("CREATE FUNCTION race.pred(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT race.note() $$")
        c.execute("RESET ROLE")
    got, ran = change_while_waiting(
        "SELECT count(*) FROM rar_mine('race.t', min_support => 0.01, min_confidence => 0.1)",
        ["CREATE INDEX ON race.t (item) WHERE race.pred(1)"],
    )
    assert_refused(got, ran)


def test_a_column_the_call_does_not_read_may_change_while_it_waits(owned):
    """Renaming or dropping another column while the call waits is no reason
    to refuse it (read committed)."""
    with connect() as c:
        c.execute("ALTER TABLE race.t ADD COLUMN other int, ADD COLUMN extra int")
    got, ran = change_while_waiting(
        "SELECT count(*) FROM rar_mine('race.t', min_support => 0.01, min_confidence => 0.1, tid_column => 'basket', item_column => 'item')",
        ["ALTER TABLE race.t RENAME COLUMN other TO other2", "ALTER TABLE race.t DROP COLUMN extra"],
    )
    assert ran == 0
    assert got.get("rows", [[0]])[0][0] > 0, got


@pytest.mark.parametrize("isolation", [None, "REPEATABLE READ"])
def test_an_index_made_on_a_partition_while_a_superuser_waits_for_it_is_seen(owned, isolation):
    """The partitions are locked (and their code checked) before the read
    is planned: a role's index predicate made on its partition while the
    superuser's call waits for that partition never runs as the superuser."""
    with connect() as c:
        c.execute(f"SET ROLE {OWNER}")
        c.execute("CREATE FUNCTION race.pred(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT race.note() $$")
        c.execute("CREATE TABLE race.pt (basket int, item text) PARTITION BY RANGE (basket)")
        c.execute("CREATE TABLE race.p1 PARTITION OF race.pt FOR VALUES FROM (0) TO (1000)")
        c.execute("INSERT INTO race.pt SELECT g / 3, 'i' || (g % 5) FROM generate_series(1, 300) g")
        c.execute("RESET ROLE")
    got, ran = change_while_waiting(
        "SELECT rar_profile('race.pt') IS NOT NULL",
        ["CREATE INDEX ON race.p1 (item) WHERE race.pred(1)"],
        isolation,
        table="race.p1",
    )
    assert_refused(got, ran)


def test_partitions_attached_while_a_superuser_waits_are_locked_before_its_checks(owned):
    """A sub-partition attached while the superuser's call waits for its
    parent is locked and checked too (the tree is listed again after each
    wait): a role's index predicate made on it once the attach committed,
    while the planner would be held up on another partition, never runs as
    the superuser."""
    with connect() as c:
        c.execute(f"SET ROLE {OWNER}")
        c.execute("CREATE FUNCTION race.pred(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT race.note() $$")
        c.execute("CREATE TABLE race.pt (basket int, item text) PARTITION BY RANGE (basket)")
        c.execute("CREATE TABLE race.c1 PARTITION OF race.pt FOR VALUES FROM (0) TO (1000) PARTITION BY RANGE (basket)")
        c.execute("CREATE TABLE race.c1a (basket int, item text)")
        c.execute("INSERT INTO race.c1a SELECT g / 3, 'i' || (g % 5) FROM generate_series(1, 899) g")
        c.execute("CREATE INDEX c1a_ok ON race.c1a (item)")
        c.execute("CREATE TABLE race.c1b (basket int, item text)")
        c.execute("INSERT INTO race.c1b SELECT 300 + g / 3, 'i' || (g % 5) FROM generate_series(1, 900) g")
        c.execute("RESET ROLE")
    attacher = connect()
    attacher.execute(f"SET ROLE {OWNER}")
    attacher.autocommit = False
    attacher.execute("LOCK TABLE race.c1 IN ACCESS EXCLUSIVE MODE")

    def indexer():
        # Holds up a plan's look at c1a's index, then gives c1b an index
        # whose predicate is the role's function.
        with connect() as c:
            c.execute(f"SET ROLE {OWNER}")
            c.autocommit = False
            c.execute("REINDEX INDEX race.c1a_ok")
            time.sleep(0.5)
            c.execute("CREATE INDEX ON race.c1b (item) WHERE race.pred(1)")
            c.commit()

    def wait_for(relation):
        with connect() as w:
            for _ in range(250):
                if w.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass", (relation,)
                ).fetchone()[0]:
                    return
                time.sleep(0.02)

    t, got = call_in_thread("SELECT count(*) FROM rar_mine('race.pt', min_support => 0.01, min_confidence => 0.1)")
    wait_for("race.c1")
    attacher.execute("ALTER TABLE race.c1 ATTACH PARTITION race.c1a FOR VALUES FROM (0) TO (300)")
    attacher.execute("ALTER TABLE race.c1 ATTACH PARTITION race.c1b FOR VALUES FROM (300) TO (1000)")
    i = threading.Thread(target=indexer)
    i.start()
    wait_for("race.c1a")
    attacher.commit()
    attacher.close()
    t.join(60)
    i.join(60)
    with connect() as c:
        ran = c.execute("SELECT count(*) FROM race.noted WHERE super").fetchone()[0]
    assert ran == 0
    if "error" in got:
        assert got["error"].sqlstate == "42501", got["error"]
    else:
        assert got["rows"][0][0] > 0


def test_a_hierarchy_lookup_renamed_while_a_superuser_waits_is_read_as_locked(owned):
    """The lookup is read by the name it has under the call's lock: renamed
    while the call waited, with a role's view made under its old name, the
    view is not what is read."""
    with connect() as c:
        c.execute(f"SET ROLE {OWNER}")
        c.execute("CREATE TABLE race.h (item text, cat text)")
        c.execute("INSERT INTO race.h SELECT 'i' || g, 'c' || (g % 2) FROM generate_series(0, 4) g")
        c.execute("SELECT rar_register('race_h', 'race.t', 'basket', 'item')")
        c.execute("SELECT rar_hierarchy('race_h', 'race.h', '{cat}', 'item')")
        c.execute("RESET ROLE")
    got, ran = change_while_waiting(
        "SELECT count(*) FROM rar_mine('race_h', level => 'cat', min_support => 0.01, min_confidence => 0.1)",
        [
            "ALTER TABLE race.h RENAME TO h_old",
            "CREATE VIEW race.h AS SELECT item, cat FROM race.h_old WHERE race.note()",
        ],
        table="race.h",
    )
    assert ran == 0
    assert "error" not in got, got
    assert got["rows"][0][0] > 0


def test_a_schema_renamed_while_a_superuser_reads_reaches_no_other_table(owned):
    """rar reads a table by its schema's name: the schema's owner renames it
    while a superuser's call waits (here: for the tracking table, after the
    checks) and gives its name to a new schema whose view of the same name
    calls the owner's function. The statement naming the schema fails
    (40001) before it plans anything: nothing of the owner's runs as the
    superuser, and no baskets are kept under the checked table."""
    with connect() as c:
        c.execute(f"GRANT CREATE ON DATABASE {c.info.dbname} TO {OWNER}")
        c.execute(f"SET ROLE {OWNER}")
        c.execute("SELECT rar_track_changes('race.t')")
        c.execute("RESET ROLE")
    holder = connect()
    holder.autocommit = False
    holder.execute("LOCK TABLE rar.table_changes IN ACCESS EXCLUSIVE MODE")
    t, got = call_in_thread("SELECT count(*) FROM rar_mine('race.t', min_support => 0.01, min_confidence => 0.1)")
    with connect() as w:
        for _ in range(200):
            if w.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'rar.table_changes'::regclass"
            ).fetchone()[0]:
                break
            time.sleep(0.02)
    with connect() as o:
        o.execute(f"SET ROLE {OWNER}")
        o.execute("ALTER SCHEMA race RENAME TO race_old")
        o.execute("CREATE SCHEMA race")
        o.execute(
            "CREATE VIEW race.t AS SELECT g / 3 AS basket, 'i' || (g % 5) AS item"
            " FROM generate_series(1, 300) g WHERE race_old.note()"
        )
    holder.commit()
    holder.close()
    t.join(60)
    with connect() as c:
        ran = c.execute("SELECT count(*) FROM race_old.noted WHERE super").fetchone()[0]
        c.execute("DROP SCHEMA race CASCADE")
        c.execute("ALTER SCHEMA race_old RENAME TO race")
        c.execute(f"REVOKE CREATE ON DATABASE {c.info.dbname} FROM {OWNER}")
    assert_refused(got, ran, codes=("40001",))


def test_a_leaf_in_a_schema_renamed_during_the_read_reaches_no_other_table(owned):
    """A partitioned table with a foreign leaf is read leaf by leaf, each by
    name, in the order of their names; a leaf may sit in a role's schema.
    While the first (slow, foreign) leaf is read, the role renames its schema and gives the name to one of
    its own holding a view of the leaf's name that calls its function: the
    statement reading that leaf fails (40001) instead of reading the view
    as the superuser."""
    with connect() as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS file_fdw")
        c.execute("DROP SERVER IF EXISTS race_files CASCADE")
        c.execute("CREATE SERVER race_files FOREIGN DATA WRAPPER file_fdw")
        c.execute(f"GRANT CREATE ON DATABASE {c.info.dbname} TO {OWNER}")
        c.execute("DROP SCHEMA IF EXISTS rac_a CASCADE")
        c.execute("CREATE SCHEMA rac_a")
        c.execute("DROP TABLE IF EXISTS public.race_pt")
        c.execute("CREATE TABLE public.race_pt (basket int, item text) PARTITION BY RANGE (basket)")
        c.execute(
            "CREATE FOREIGN TABLE rac_a.pf PARTITION OF public.race_pt FOR VALUES FROM (0) TO (100)"
            " SERVER race_files OPTIONS (program 'sleep 2; for i in 1 2 3 4 5; do echo \"$i,a\"; echo \"$i,b\"; done',"
            " format 'csv')"
        )
        c.execute("CREATE TABLE race.pl PARTITION OF public.race_pt FOR VALUES FROM (100) TO (200)")
        c.execute("INSERT INTO race.pl SELECT 100 + g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 50) g")
    t, got = call_in_thread(
        "SELECT count(*) FROM rar_mine('public.race_pt', min_support => 0.01, min_confidence => 0.1,"
        " tid_column => 'basket', item_column => 'item')"
    )
    time.sleep(1.0)
    with connect() as o:
        o.execute(f"SET ROLE {OWNER}")
        o.execute("ALTER SCHEMA race RENAME TO race_old")
        o.execute("CREATE SCHEMA race")
        o.execute(
            "CREATE VIEW race.pl AS SELECT 100 + g AS basket, 'x' || (g % 3) AS item"
            " FROM generate_series(1, 30) g WHERE race_old.note()"
        )
    t.join(60)
    with connect() as c:
        ran = c.execute("SELECT count(*) FROM race_old.noted WHERE super").fetchone()[0]
        c.execute("DROP TABLE public.race_pt")
        c.execute("DROP SCHEMA rac_a CASCADE")
        c.execute("DROP SCHEMA race CASCADE")
        c.execute("ALTER SCHEMA race_old RENAME TO race")
        c.execute("DROP SERVER race_files CASCADE")
        c.execute(f"REVOKE CREATE ON DATABASE {c.info.dbname} FROM {OWNER}")
    assert_refused(got, ran, codes=("40001",))
