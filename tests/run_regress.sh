#!/usr/bin/env bash
# Runs the SQL regression files of tests/pg_regress against the local
# cluster (started by scripts/setup.sh), in a fresh database.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
db=rar_regress
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
regress="$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress"
tests=$(ls tests/pg_regress/sql | sed 's/\.sql$//' | sort)
cd tests/pg_regress
"$regress" --use-existing --host="$PGHOST" --port="$PGPORT" --user=postgres --dbname=$db \
  --inputdir=. --outputdir=. --bindir="$PG_BIN" $tests
