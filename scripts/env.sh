# Shared settings of the set-up, demo, test and benchmark scripts.
# Sourced, not run.

# The local cluster: data, socket and log in folders owned by `postgres`.
export RAR_HOME=/var/lib/postgresql/rar
export PGDATA=$RAR_HOME/data
export RAR_SOCKET_DIR=$RAR_HOME/run
export RAR_LOG=$RAR_HOME/log/postgresql.log
export PGHOST=$RAR_SOCKET_DIR
export PGPORT=5415
export PGUSER=postgres
export RAR_DEMO_DB=rar_demo

# PostgreSQL 15 from Debian.
export PG_BIN=/usr/lib/postgresql/15/bin
export PG_CONFIG=$PG_BIN/pg_config

# The Python venv (libtorch for tch, the benchmark peers, the test driver).
# A fixed path the `postgres` user can read: the extension's rpath points here.
export RAR_VENV=/opt/rar/venv

# cargo from rustup when it is not on PATH yet.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  . "$HOME/.cargo/env"
fi
export PATH=$RAR_VENV/bin:$PG_BIN:$PATH
# tch builds against the venv's torch (libtorch 2.13.0), not a download.
export LIBTORCH_USE_PYTORCH=1

as_postgres() { runuser -u postgres -- "$@"; }
step() { printf '\n== %s\n' "$*"; }
