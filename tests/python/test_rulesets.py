"""Rule sets under concurrency, from pg_cron, and drawn in a browser."""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading
import time

import psycopg
import pytest

from conftest import connect

DEMO_DB = os.environ.get("RAR_DEMO_DB", "rar_demo")


def setup_source(c, name="retail"):
    c.execute(
        "SELECT rar_register(%s, 'online_retail_sales', defaults => '{\"min_support\": 0.01}')", (name,)
    )


def test_readers_see_old_or_new_set_never_a_mix(db):
    with db() as a, db() as reader:
        setup_source(a)
        a.execute("CALL rar_refresh('retail')")
        before = reader.execute("SELECT count(*) FROM rar.rules WHERE source = 'retail'").fetchone()[0]
        assert before == 775
        a.execute("BEGIN")
        a.execute("CALL rar_refresh('retail', min_support => 0.005)")
        # Mid-refresh, another session still sees the whole old set.
        assert reader.execute("SELECT count(*) FROM rar.rules WHERE source = 'retail'").fetchone()[0] == before
        a.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM rar.rules WHERE source = 'retail'").fetchone()[0] == 16_139


def test_second_refresh_fails_fast_or_waits(db):
    with db() as a, db() as b:
        setup_source(a)
        a.execute("BEGIN")
        a.execute("CALL rar_refresh('retail')")
        with pytest.raises(psycopg.errors.LockNotAvailable) as e:
            b.execute("CALL rar_refresh('retail')")
        assert "already running" in str(e.value)
        done = {}

        def waiter():
            t0 = time.monotonic()
            b.execute("CALL rar_refresh('retail', wait => true)")
            done["after"] = time.monotonic() - t0

        th = threading.Thread(target=waiter)
        th.start()
        time.sleep(1.0)
        assert "after" not in done, "the waiting refresh waits for the first"
        a.execute("COMMIT")
        th.join(timeout=60)
        assert done["after"] >= 1.0
        sets = b.execute("SELECT count(*) FILTER (WHERE current) FROM rar.rule_sets WHERE source = 'retail'").fetchone()[0]
        assert sets == 1


def test_nightly_refresh_with_pg_cron():
    """The README's schedule, in the database pg_cron runs in; the job's
    command is run directly instead of waiting for 3 a.m."""
    with connect(DEMO_DB) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        c.execute("SELECT rar_register('sales', 'sales', label_column => 'description')")
        c.execute("SELECT cron.schedule('rar-nightly', '0 3 * * *', $$CALL rar_refresh('sales')$$)")
        command, schedule = c.execute(
            "SELECT command, schedule FROM cron.job WHERE jobname = 'rar-nightly'"
        ).fetchone()
        assert schedule == "0 3 * * *"
        sets_before = c.execute("SELECT count(*) FROM rar.rule_sets WHERE source = 'sales'").fetchone()[0]
        c.execute(command)
        rules, current = c.execute(
            "SELECT count(*), min(refreshed_at) FROM rar.rules WHERE source = 'sales'"
        ).fetchone()
        assert rules == 775
        assert c.execute("SELECT count(*) FROM rar.rule_sets WHERE source = 'sales'").fetchone()[0] >= min(sets_before + 1, 10)
        label = c.execute("SELECT consequent_text FROM rar.rules WHERE source = 'sales' ORDER BY rule_id LIMIT 1").fetchone()[0]
        assert label == "HERB MARKER ROSEMARY"
        c.execute("SELECT cron.unschedule('rar-nightly')")


PAGE = """<!doctype html><html><body style="margin:0">{svg}
<script>
const marks = [...document.querySelectorAll('svg .rule, svg .item')]
  .filter(e => {{ const b = e.getBBox(); return b.width > 0 && b.height > 0; }});
const svg = document.querySelector('svg').getBoundingClientRect();
// Labels as the browser lays them out: none may overlap another or leave the picture.
const boxes = [...document.querySelectorAll('svg text')].map(t => t.getBoundingClientRect());
let overlaps = 0, outside = 0;
boxes.forEach((a, i) => {{
  if (a.left < svg.left - 0.5 || a.right > svg.right + 0.5 || a.top < svg.top - 0.5 || a.bottom > svg.bottom + 0.5) outside++;
  boxes.slice(i + 1).forEach(b => {{
    if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) overlaps++;
  }});
}});
document.body.setAttribute('data-rendered', marks.length + ' ' + Math.round(svg.width) + 'x' + Math.round(svg.height)
  + ' labels ' + boxes.length + ' overlapping ' + overlaps + ' outside ' + outside);
</script></body></html>"""

CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian package chromium not installed")
@pytest.mark.parametrize("kind", ["scatter", "graph"])
def test_plots_render_in_headless_chromium_with_no_overlapping_labels(db, kind):
    """Rendered as a person sees it: every rule and item drawn, no label
    over another or cut off (with the browser's own font metrics), and a
    screenshot kept in $RAR_SCREENSHOTS (default /tmp) to look at."""
    with db() as c:
        setup_source(c)
        c.execute("CALL rar_refresh('retail')")
        svg = c.execute("SELECT rar_plot('retail', %s, top => 50)", (kind,)).fetchone()[0]
        expected = svg.count('class="rule"') + svg.count('class="item"')
    width, height = (int(float(v)) for v in re.search(r'width="([0-9.]+)" height="([0-9.]+)"', svg).groups())
    assert expected > 0
    shots = pathlib.Path(os.environ.get("RAR_SCREENSHOTS", "/tmp"))
    shot = shots / f"rar_plot_{kind}.png"
    with tempfile.TemporaryDirectory() as tmp:
        page = pathlib.Path(tmp) / "plot.html"
        page.write_text(PAGE.format(svg=svg))
        out = subprocess.run(
            CHROMIUM + [f"--user-data-dir={tmp}/profile", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        ).stdout
        subprocess.run(
            CHROMIUM + [f"--user-data-dir={tmp}/profile2", f"--screenshot={shot}", f"--window-size={width},{height}",
                        page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    rendered = re.search(r'data-rendered="([^"]*)"', out).group(1)
    marks, size, _, labels, _, overlapping, _, outside = rendered.split()
    assert (int(marks), size) == (expected, f"{width}x{height}"), rendered
    assert int(labels) > 10 and int(overlapping) == 0 and int(outside) == 0, rendered
    assert shot.stat().st_size > 10000
