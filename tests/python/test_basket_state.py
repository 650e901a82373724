"""rar.basket_state and rar.baskets_shared on one server (the Citus side is
in test_citus.py): the text of a state round-trips, the input function
refuses what it did not make and bounds the memory it builds, a hand call
leaves nothing behind for a later rar_mine, and a rar_mine that runs inside
another rar_mine's read (a view over a function that mines) leaves the
outer read its own baskets."""
import base64
import struct

import psycopg
import pytest

from conftest import connect


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def state(baskets, items):
    """The bytes of a state: `baskets` as lists of item ids."""
    b = bytearray(b"RARP\x02") + struct.pack("<Q", 0) + b"\x00"
    b += varint(len(items))
    for name in items:
        b += varint(len(name.encode())) + name.encode()
    b += varint(len(baskets))
    for k in range(len(baskets)):
        key = str(k).encode()
        b += varint(len(key) + 1) + key
    for ids in baskets:
        b += varint(len(ids))
    for ids in baskets:
        prev = 0
        for i in sorted(ids):
            b += varint(i - prev)
            prev = i
    return base64.b64encode(bytes(b)).decode()


def test_text_round_trips_and_mines_the_same(db):
    with db() as c:
        c.execute("CREATE TEMP TABLE states (s rar.basket_state)")
        c.execute("CREATE AGGREGATE pg_temp.shared_state(bigint, text) (SFUNC = rar.basket_state_sfunc_bi,"
                  " STYPE = rar.basket_state, COMBINEFUNC = rar.basket_state_combine)")
        c.execute("INSERT INTO states SELECT pg_temp.shared_state(transaction_id, item) FROM groceries"
                  " GROUP BY transaction_id % 4")
        text = c.execute("SELECT s::text FROM states LIMIT 1").fetchone()[0]
        assert c.execute("SELECT %s::rar.basket_state::text = %s", (text, text)).fetchone()[0]
        whole = c.execute("SELECT octet_length(rar.baskets_shared(transaction_id, item)) FROM groceries").fetchone()[0]
        assert 40_000 < whole < 200_000


def test_input_refuses_and_bounds(db):
    with db() as c:
        with pytest.raises(psycopg.errors.InvalidTextRepresentation) as e:
            c.execute("SELECT 'not base64!'::rar.basket_state")
        assert e.value.diag.message_hint
        with pytest.raises(psycopg.errors.InvalidBinaryRepresentation):
            c.execute("SELECT %s::rar.basket_state", (state([[0, 5]], ["a", "b"]),))
        good = state([[0, 1], [1]], ["a", "b"])
        assert c.execute("SELECT %s::rar.basket_state IS NOT NULL", (good,)).fetchone()[0]
        # 200,000 lines take 1.6 MB as pairs: over a 1MB budget, refused
        # before they are built.
        big = state([[0] for _ in range(200_000)], ["a"])
        c.execute("SET rar.memory_limit = '1MB'")
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as e:
            c.execute("SELECT %s::rar.basket_state IS NOT NULL", (big,))
        assert "rar.memory_limit" in e.value.diag.message_hint
        c.execute("RESET rar.memory_limit")
        assert c.execute("SELECT %s::rar.basket_state IS NOT NULL", (big,)).fetchone()[0]


def test_hand_calls_leave_nothing_for_a_later_mine(db):
    """rar.baskets and rar.baskets_shared called by hand, then rar_mine on
    an empty table: no rules (nothing left over from the hand calls)."""
    with db() as c:
        c.execute("SELECT rar.baskets(transaction_id, item) FROM groceries")
        c.execute("SELECT rar.baskets_shared(transaction_id, item) FROM groceries")
        c.execute("CREATE TEMP TABLE empty_sales (transaction_id int, item text)")
        assert c.execute("SELECT count(*) FROM rar_mine('empty_sales', min_support => 0.001)").fetchone()[0] == 0


def test_mine_inside_a_read_keeps_both(db):
    """A view whose rows come through a function that itself mines: the
    outer rar_mine gets the view's rules, the inner its own."""
    with db() as c:
        c.execute("CREATE TABLE IF NOT EXISTS inner_sales AS SELECT * FROM groceries WHERE transaction_id < 2000")
        c.execute("""CREATE OR REPLACE FUNCTION mines_once(t int) RETURNS bool LANGUAGE plpgsql AS $$
            BEGIN
              IF t = 1 THEN PERFORM count(*) FROM public.rar_mine('public.inner_sales', min_support => 0.01); END IF;
              RETURN true;
            END $$""")
        c.execute("CREATE OR REPLACE VIEW nested_view AS SELECT transaction_id, item FROM groceries"
                  " WHERE mines_once(transaction_id)")
        q = "SELECT * FROM rar_mine(%s, min_support => 0.01, min_confidence => 0.2)"
        plain = c.execute(q, ("groceries",)).fetchall()
        assert len(plain) > 10
        assert c.execute(q, ("nested_view",)).fetchall() == plain


def test_the_aggregates_in_a_source_answer_as_usual(db):
    """A view whose filter calls rar.baskets_shared in a subquery: inside
    rar_mine's read it returns its bytes as it does outside (only the
    reader's own aggregate hands its baskets over), so rar_mine mines the
    rows the view returns."""
    with db() as c:
        c.execute("CREATE TABLE IF NOT EXISTS tiny_sales AS SELECT * FROM groceries WHERE transaction_id < 20")
        c.execute("CREATE OR REPLACE VIEW filtered_view AS SELECT transaction_id, item FROM groceries g"
                  " WHERE g.transaction_id % 2 = 0 OR (SELECT rar.baskets_shared(transaction_id, item) IS NULL"
                  " FROM tiny_sales)")
        c.execute("CREATE TEMP TABLE filtered_copy AS SELECT * FROM filtered_view")
        n = c.execute("SELECT count(*) FROM filtered_copy").fetchone()[0]
        assert 0 < n < c.execute("SELECT count(*) FROM groceries").fetchone()[0]
        q = "SELECT * FROM rar_mine(%s, min_support => 0.01, min_confidence => 0.2)"
        copy = c.execute(q, ("filtered_copy",)).fetchall()
        assert len(copy) > 10
        assert c.execute(q, ("filtered_view",)).fetchall() == copy


def read_varint(b, at):
    v, shift = 0, 0
    while True:
        byte = b[at]
        at += 1
        v |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return v, at


def candidates_request(names, itemsets):
    """Round 2's request (rar_core::shards): names, then each itemset as
    ascending indices, the first as is and the rest as gaps less one."""
    b = bytearray(b"RARS\x01\x02") + varint(len(names))
    for n in names:
        b += varint(len(n.encode())) + n.encode()
    b += varint(len(itemsets))
    for s in itemsets:
        s = sorted(s)
        b += varint(len(s)) + varint(s[0]) + b"".join(varint(y - x - 1) for x, y in zip(s, s[1:]))
    return base64.b64encode(bytes(b)).decode()


def test_shard_functions_answer_and_refuse(db):
    """The two rounds rar_mine runs on Citus shards, called on a plain
    table: round 1 finds the itemsets (or declines where min_support is
    too few baskets), round 2's counts are the table's own (checked with
    plain SQL), and bad input gets SQL errors, never an internal error."""
    with db() as c:
        one = base64.b64decode(c.execute(
            "SELECT rar.shard_itemsets('groceries', 'transaction_id', 'item', 0.01, 3, NULL, NULL)").fetchone()[0])
        assert one[:6] == b"RARS\x01\x01"
        n, at = read_varint(one, 6)
        assert n == c.execute("SELECT count(DISTINCT transaction_id) FROM groceries").fetchone()[0]
        assert one[at] == 0, "not declined"
        n_names, _ = read_varint(one, at + 1)
        assert 50 < n_names < 169
        few = base64.b64decode(c.execute(
            "SELECT rar.shard_itemsets('groceries', 'transaction_id', 'item', 0.001, 3, NULL, NULL)").fetchone()[0])
        _, at = read_varint(few, 6)
        assert few[at] == 1, "declined: 0.1% is 10 baskets"

        names = ["whole milk", "yogurt", "no such item", "rolls/buns"]
        itemsets = [[0], [1], [0, 1], [2], [0, 2], [0, 1, 3]]
        request = candidates_request(names, itemsets)
        got = base64.b64decode(c.execute(
            "SELECT rar.shard_counts('groceries', 'transaction_id', 'item', %s, NULL)", (request,)).fetchone()[0])
        assert got[:6] == b"RARS\x01\x03"
        n, at = read_varint(got, 6)
        _, at = read_varint(got, at)
        k, at = read_varint(got, at)
        counts = []
        for _ in range(k):
            v, at = read_varint(got, at)
            counts.append(v)
        expected = [c.execute("SELECT count(*) FROM (SELECT transaction_id FROM groceries WHERE item = ANY(%s)"
                              " GROUP BY 1 HAVING count(DISTINCT item) = %s) t",
                              ([names[i] for i in s], len(s))).fetchone()[0] for s in itemsets]
        assert counts == expected and counts[3] == counts[4] == 0 and counts[5] > 0

        call = "SELECT rar.shard_counts('groceries', 'transaction_id', 'item', %s, NULL)"
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            c.execute(call, ("not base64!",))
        for bad in [base64.b64encode(b"RARS\x01\x02\xff").decode(),              # truncated
                    base64.b64encode(b"RARS\x01\x02\x00" + varint(1 << 40)).decode(),  # 2^40 itemsets claimed
                    candidates_request(["a"], [[0]])[:-4] + "AAAA",               # bytes after the end
                    base64.b64encode(b"RARS\x01\x01\x00\x00").decode()]:          # round 1's kind
            with pytest.raises(psycopg.errors.InvalidBinaryRepresentation):
                c.execute(call, (bad,))
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            c.execute("SELECT rar.shard_itemsets('groceries', 'transaction_id', 'item', 0, 3, NULL, NULL)")
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            c.execute("SELECT rar.shard_itemsets('groceries', 'transaction_id', 'item', 0.1, 99, NULL, NULL)")
        with pytest.raises(psycopg.errors.NullValueNotAllowed):
            c.execute("SELECT rar.shard_itemsets('groceries', 'transaction_id', 'item', NULL, 3, NULL, NULL)")
        with pytest.raises(psycopg.errors.UndefinedColumn):
            c.execute("SELECT rar.shard_counts('groceries', 'nope', 'item', %s, NULL)", (request,))
        # The caller's budget holds on the shard: 2.6 million copies of one
        # candidate do not fit in 1MB, and are refused before they are built.
        many = candidates_request(["whole milk"], [[0]] * 2_600_000)
        with pytest.raises(psycopg.errors.ProgramLimitExceeded):
            c.execute("SELECT rar.shard_counts('groceries', 'transaction_id', 'item', %s, 1048576)", (many,))
        # A role that may not read the table hears so, even where the
        # statistics alone would decline.
        c.execute("ANALYZE groceries")
        c.execute("DROP ROLE IF EXISTS shard_stranger")
        c.execute("CREATE ROLE shard_stranger")
        c.execute("GRANT USAGE ON SCHEMA rar TO shard_stranger")
        try:
            c.execute("SET ROLE shard_stranger")
            for sql in ["SELECT rar.shard_itemsets('groceries', 'transaction_id', 'item', 0.0001, 3, NULL, NULL)",
                        "SELECT rar.shard_itemsets('groceries', 'transaction_id', 'item', 0.1, 3, NULL, NULL)"]:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    c.execute(sql)
        finally:
            c.execute("RESET ROLE")
            c.execute("DROP OWNED BY shard_stranger")
            c.execute("DROP ROLE shard_stranger")
