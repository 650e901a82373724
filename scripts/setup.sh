#!/usr/bin/env bash
# Set-up and demo of rar, from a fresh machine to rules on the screen.
#
#   ./scripts/setup.sh            everything, then the demo
#   ./scripts/setup.sh --no-demo  everything but the demo (used by test.sh)
#
# Idempotent: each step checks whether it is already done and skips it.
# Runs as root (it installs Debian packages and runs PostgreSQL as `postgres`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

demo=1
[ "${1:-}" = "--no-demo" ] && demo=0

step "Debian packages"
pkgs=(postgresql-15 postgresql-contrib postgresql-server-dev-15 postgresql-15-cron libclang-dev clang sudo pkg-config chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
else
  echo "all present"
fi

step "cargo-pgrx 0.18.0"
if cargo pgrx --version 2>/dev/null | grep -q "0.18.0"; then
  echo "present"
else
  cargo install cargo-pgrx --version 0.18.0 --locked
fi
if grep -q "pg15" "$HOME/.pgrx/config.toml" 2>/dev/null; then
  echo "pgrx config present"
else
  cargo pgrx init --pg15 "$PG_CONFIG"
fi

step "Python venv at $RAR_VENV (torch 2.13.0, pyfim, mlxtend, pytest)"
stamp=$RAR_VENV/.rar-requirements
if [ -f "$stamp" ] && cmp -s "$stamp" scripts/requirements.txt; then
  echo "present"
else
  mkdir -p "$(dirname "$RAR_VENV")"
  [ -x "$RAR_VENV/bin/python" ] || python3 -m venv "$RAR_VENV"
  "$RAR_VENV/bin/pip" install -q --upgrade pip
  "$RAR_VENV/bin/pip" install -q -r scripts/requirements.txt
  cp scripts/requirements.txt "$stamp"
fi
chmod -R a+rX "$(dirname "$RAR_VENV")"

step "Build and install the extension into PostgreSQL 15"
cargo pgrx install --release --pg-config "$PG_CONFIG" 2>&1 | grep -vE "^\s+(Compiling|Checking)" || true
test -f "$("$PG_CONFIG" --pkglibdir)/rar.so"
# Earlier versions' scripts and the upgrade scripts (cargo pgrx installs the
# current version's script only), so that ALTER EXTENSION rar UPDATE and
# CREATE EXTENSION rar VERSION '<earlier>' work.
version=$(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)
for f in sql/rar--*.sql; do
  [ "$f" = "sql/rar--$version.sql" ] || install -m 644 "$f" "$("$PG_CONFIG" --sharedir)/extension/"
done

step "Build and install the model library (libtorch) beside the extension"
cargo build --release -p rar-model 2>&1 | grep -vE "^\s+(Compiling|Checking)" || true
install -m 755 target/release/librar_model.so "$("$PG_CONFIG" --pkglibdir)/rar_model.so"

step "Local PostgreSQL cluster (port $PGPORT, socket $RAR_SOCKET_DIR)"
mkdir -p "$RAR_HOME"/{run,log}
chown -R postgres:postgres "$RAR_HOME"
chmod 755 "$RAR_HOME" "$RAR_SOCKET_DIR"
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$PGDATA/postgresql.conf" <<CONF
# rar: local cluster for the demo, the tests and the benchmarks
port = $PGPORT
unix_socket_directories = '$RAR_SOCKET_DIR'
listen_addresses = ''
max_worker_processes = 16
shared_buffers = 512MB
CONF
  echo "initialised $PGDATA"
else
  echo "present"
fi
# pg_cron for scheduled refreshes: preloaded, its jobs run in the demo database.
if ! grep -q "^shared_preload_libraries = 'pg_cron'" "$PGDATA/postgresql.conf"; then
  cat >> "$PGDATA/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_cron'
cron.database_name = '$RAR_DEMO_DB'
CONF
  echo "configured pg_cron"
fi
# rar's settings (SHOW rar.max_rules, SET rar.memory_limit) exist in a
# session once rar.so is loaded: load it when each session starts (no
# restart, and a new rar.so is picked up by new sessions).
if ! grep -q "^session_preload_libraries = 'rar'" "$PGDATA/postgresql.conf"; then
  echo "session_preload_libraries = 'rar'" >> "$PGDATA/postgresql.conf"
  echo "configured session_preload_libraries"
  reload=1
fi
# rar.memory_limit = -1 (its default) budgets mining at maintenance_work_mem:
# give this cluster 1GB, as a DBA would on a server that mines.
if ! grep -q "^maintenance_work_mem" "$PGDATA/postgresql.conf"; then
  echo "maintenance_work_mem = 1GB" >> "$PGDATA/postgresql.conf"
  echo "configured maintenance_work_mem"
  reload=1
fi
if as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  [ -n "${reload:-}" ] && as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" reload >/dev/null
  if [ "$(psql -X -d postgres -tAc 'SHOW shared_preload_libraries')" != "pg_cron" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$RAR_LOG" -w restart >/dev/null
    echo "restarted (to load pg_cron)"
  else
    echo "running"
  fi
else
  as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$RAR_LOG" -w start >/dev/null
  echo "started"
fi

if [ $demo -eq 0 ]; then
  exit 0
fi

step "Demo database $RAR_DEMO_DB with the UCI Online Retail data as table sales"
psql -q -X -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$RAR_DEMO_DB'" | grep -q 1 \
  || psql -q -X -d postgres -c "CREATE DATABASE $RAR_DEMO_DB"
# An existing demo database is upgraded in place, never dropped: its
# models, rule sets and cleaning log stay.
if [ -n "$(psql -X -d "$RAR_DEMO_DB" -tAc "SELECT 1 FROM pg_extension WHERE extname = 'rar' AND extversion <> '$version'")" ]; then
  psql -q -X -v ON_ERROR_STOP=1 -d "$RAR_DEMO_DB" -c "ALTER EXTENSION rar UPDATE"
  echo "extension rar updated to $version in $RAR_DEMO_DB"
fi
psql -q -X -v ON_ERROR_STOP=1 -d "$RAR_DEMO_DB" -f scripts/demo_schema.sql
if [ "$(psql -X -d "$RAR_DEMO_DB" -tAc "SELECT count(*) FROM sales")" = "0" ]; then
  zcat data/online_retail.csv.gz | psql -q -X -v ON_ERROR_STOP=1 -d "$RAR_DEMO_DB" -f scripts/demo_load.sql
fi
psql -X -d "$RAR_DEMO_DB" -tAc "SELECT format('%s lines in sales before cleaning', count(*)) FROM sales"

step "SELECT * FROM rar_clean('sales', cancelled_basket_pattern => '^C')"
psql -X -v ON_ERROR_STOP=1 -d "$RAR_DEMO_DB" -f scripts/demo_clean.sql
psql -X -d "$RAR_DEMO_DB" -tAc "SELECT format('%s lines, %s invoices, %s stock codes in sales; %s lines kept aside in sales_rar_rejected', count(*), count(DISTINCT invoice_no), count(DISTINCT stock_code), (SELECT count(*) FROM sales_rar_rejected WHERE rar_action = 'removed')) FROM sales"

step "The Instacart sample in schema instacart, registered with its aisles and departments"
psql -q -X -v ON_ERROR_STOP=1 -d "$RAR_DEMO_DB" -f scripts/demo_instacart.sql >/dev/null
psql -X -d "$RAR_DEMO_DB" -tAc "SELECT format('%s lines, %s orders, %s products in instacart.order_products', count(*), count(DISTINCT order_id), count(DISTINCT product_id)) FROM instacart.order_products"

step "SELECT * FROM rar_mine('sales'): the top rules by lift"
psql -X -d "$RAR_DEMO_DB" -f scripts/demo_query.sql

cat <<MSG

Connect to the demo database with:
  psql -h $RAR_SOCKET_DIR -p $PGPORT -U postgres $RAR_DEMO_DB
MSG
