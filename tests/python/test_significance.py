"""Significance and redundancy of rar_mine's rules against references:
scipy's Fisher's exact test, Holm's and Bonferroni's corrections written
out, and improvement counted directly in the baskets."""
import math
from itertools import combinations

import pytest
from scipy.stats import fisher_exact

from conftest import groceries_baskets

COLS = "antecedent, consequent, support, confidence, lift, count, p_value"


def counts(n, support, confidence, lift, count):
    """The four counts a rule's measures are ratios of."""
    a = round(count / confidence)
    c = round(count * n / (a * lift))
    return count, a, c


@pytest.fixture(scope="module")
def baskets():
    return [frozenset(b) for b in groceries_baskets()]


def test_p_values_equal_scipys_fisher_exact(db, baskets):
    n = len(baskets)
    with db() as c:
        rows = c.execute(f"SELECT {COLS} FROM rar_mine('groceries', 0.005, 0.1, max_length => 3, p_adjust => 'none')").fetchall()
    assert len(rows) > 500
    worst = 0.0
    for ante, cons, support, confidence, lift, count, p in rows:
        ac, a, cc = counts(n, support, confidence, lift, count)
        want = fisher_exact([[ac, a - ac], [cc - ac, n - a - cc + ac]], alternative="greater").pvalue
        if want > 1e-300:
            worst = max(worst, abs(p - want) / want)
        else:
            assert p < 1e-290
    assert worst < 1e-8, worst


def test_holm_and_bonferroni_are_the_textbook_corrections(db):
    q = f"SELECT {COLS} FROM rar_mine('groceries', 0.01, 0.2, p_adjust => %s) ORDER BY antecedent, consequent"
    with db() as c:
        raw = [r[-1] for r in c.execute(q, ("none",)).fetchall()]
        holm = [r[-1] for r in c.execute(q, ("holm",)).fetchall()]
        bonf = [r[-1] for r in c.execute(q, ("bonferroni",)).fetchall()]
    m = len(raw)
    assert m > 50
    order = sorted(range(m), key=lambda i: (raw[i], i))
    want, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * raw[i]))
        want[i] = running
    assert all(math.isclose(h, w, rel_tol=1e-12, abs_tol=1e-300) for h, w in zip(holm, want))
    assert all(math.isclose(b, min(1.0, m * r), rel_tol=1e-12, abs_tol=1e-300) for b, r in zip(bonf, raw))
    assert all(r <= h <= b for r, h, b in zip(raw, holm, bonf))


def test_max_p_value_keeps_exactly_the_rules_at_or_below_it(db):
    with db() as c:
        all_rules = c.execute(f"SELECT {COLS} FROM rar_mine('groceries', 0.005, 0.1)").fetchall()
        kept = c.execute(f"SELECT {COLS} FROM rar_mine('groceries', 0.005, 0.1, max_p_value => 0.01)").fetchall()
    want = [r for r in all_rules if r[-1] <= 0.01]
    assert 0 < len(want) < len(all_rules)
    assert kept == want


def test_no_redundant_rules_means_every_kept_rule_beats_every_more_general_one(db, baskets):
    n = len(baskets)

    def count(items):
        return sum(1 for b in baskets if items <= b)

    def improvement(ante, cons):
        conf = count(frozenset(ante) | frozenset(cons)) / count(frozenset(ante))
        best = count(frozenset(cons)) / n
        for k in range(1, len(ante)):
            for sub in combinations(ante, k):
                best = max(best, count(frozenset(sub) | frozenset(cons)) / count(frozenset(sub)))
        return conf - best

    q = "SELECT antecedent, consequent FROM rar_mine('groceries', 0.005, 0.2, max_length => 3, min_length => 2{})"
    def rules(extra):
        with db() as c:
            return {(tuple(a), tuple(k)) for a, k in c.execute(q.format(extra)).fetchall()}

    every, kept, strong = rules(""), rules(", min_improvement => 0"), rules(", min_improvement => 0.05")
    assert kept <= every and strong <= kept
    assert len(every - kept) > 10 and len(kept) > 10
    for ante, cons in sorted(every):
        imp = improvement(ante, cons)
        assert ((ante, cons) in kept) == (imp > 0), (ante, cons, imp)
        assert ((ante, cons) in strong) == (imp > 0.05), (ante, cons, imp)


def test_rules_over_time_are_each_months_counts_and_a_two_proportion_test(db):
    """Month by month on Online Retail: each rule's counts equal counting the
    month's invoices in Python, `holds` and `change` follow the thresholds,
    and `p_change` is the pooled two-proportion z test of the confidence."""
    with db() as c:
        rows = c.execute(
            "SELECT window_start, antecedent, consequent, baskets, count, confidence, holds, change, p_change "
            "FROM rar_rules_over_time('online_retail', 'invoice_date', min_support => 0.02, min_confidence => 0.5, "
            "tid_column => 'invoice_no', item_column => 'stock_code')"
        ).fetchall()
        lines = c.execute(
            "SELECT invoice_no, stock_code, invoice_date FROM online_retail "
            "WHERE invoice_no IS NOT NULL AND stock_code IS NOT NULL"
        ).fetchall()
    first = {}
    items = {}
    for inv, code, at in lines:
        items.setdefault(inv, set()).add(code)
        if at is not None and (inv not in first or at < first[inv]):
            first[inv] = at
    months = {}
    for inv, at in first.items():
        months.setdefault(at.replace(day=1, hour=0, minute=0, second=0, microsecond=0), []).append(items[inv])
    assert len({r[0] for r in rows}) == len(months) >= 12
    rules = {(tuple(r[1]), tuple(r[2])) for r in rows}
    assert len(rules) > 3
    prev = {}
    for start, ante, cons, n, ac, conf, holds, change, p in sorted(rows, key=lambda r: (r[1], r[2], r[0])):
        baskets = months[start]
        a = sum(1 for b in baskets if set(ante) <= b)
        both = sum(1 for b in baskets if set(ante) | set(cons) <= b)
        assert (n, ac) == (len(baskets), both)
        assert conf == (both / a if a else None)
        assert holds == (a > 0 and both / n + 1e-12 >= 0.02 and both / a + 1e-12 >= 0.5)
        key = (tuple(ante), tuple(cons))
        if key in prev:
            pa, pac, pholds = prev[key]
            assert change == {(False, True): "emerged", (True, False): "vanished", (True, True): "held", (False, False): "absent"}[(pholds, holds)]
            pooled = (pac + both) / (pa + a) if pa and a else None
            if pooled is None or pooled in (0.0, 1.0):
                assert p is None
            else:
                z = (both / a - pac / pa) / math.sqrt(pooled * (1 - pooled) * (1 / pa + 1 / a))
                assert math.isclose(p, math.erfc(abs(z) / math.sqrt(2)), rel_tol=1e-9, abs_tol=1e-15)
        else:
            assert change is None and p is None
        prev[key] = (a, both, holds)
