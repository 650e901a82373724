#!/usr/bin/env bash
# Set-up (as scripts/setup.sh, demo included) and the whole test suite:
#   1. the pure Rust core and the model library (cargo test: unit, property,
#      doc and training tests),
#   2. the SQL regression files (tests/pg_regress) against the local cluster,
#   3. the Python integration tests (tests/python: exactness against pyfim,
#      cancellation, the backend's libraries, a Citus cluster where Citus's
#      source is at hand).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh

step "cargo fmt and cargo clippy (formatting and lints, warnings as errors)"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --features pg15 -- -D warnings

step "cargo test -p rar-core (the pure core) and -p rar-model (the libtorch models)"
cargo test -p rar-core --release
cargo test -p rar-model --release

step "The committed SQL surface (sql/) is the one the code generates"
version=$(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)
generated=$(mktemp)
cargo pgrx schema --release --pg-config "$PG_CONFIG" -o "$generated" >/dev/null 2>&1
# Source locations move with every edit and pgrx orders independent objects
# differently from build to build; the SQL itself must not change.
if ! diff -u <(python3 scripts/sql_blocks.py "sql/rar--$version.sql") <(python3 scripts/sql_blocks.py "$generated"); then
  echo "sql/rar--$version.sql is out of date: regenerate it with cargo pgrx schema --release -o sql/rar--$version.sql" >&2
  exit 1
fi

# Every earlier version has an upgrade script to this one, generated from
# sql/upgrade/ and this version's script (scripts/upgrade_sql.py).
for old in $(ls sql | sed -n 's/^rar--\([0-9.]*\)\.sql$/\1/p' | grep -vx "$version"); do
  upgrade="sql/rar--$old--$version.sql"
  if [ ! -f "$upgrade" ]; then
    echo "missing $upgrade: ALTER EXTENSION rar UPDATE would have no path from $old" >&2
    exit 1
  fi
  if ! diff -u "$upgrade" <(python3 scripts/upgrade_sql.py "$old" "$version"); then
    echo "$upgrade is out of date: python3 scripts/upgrade_sql.py $old $version > $upgrade" >&2
    exit 1
  fi
done

step "SQL regression tests"
./tests/run_regress.sh

step "Citus, for tests/python/test_citus.py (built from its source where the machine has it)"
citus_src=""
for d in "${RAR_CITUS_SRC:-}" ./shared/citus ../shared/citus /work/shared/citus; do
  if [ -n "$d" ] && [ -f "$d/build.sh" ]; then citus_src=$d; break; fi
done
if [ -n "$citus_src" ]; then
  # A failed build (no package mirror, another PostgreSQL minor) leaves the
  # Citus tests to skip, saying so; it does not stop the suite.
  bash "$citus_src/build.sh" || echo "WARNING: building Citus from $citus_src failed: the Citus tests will skip"
else
  echo "no Citus source (RAR_CITUS_SRC, ../shared/citus): the Citus tests will skip"
fi

step "Python integration tests"
pytest -q tests/python

step "All tests passed"
