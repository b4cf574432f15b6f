#!/usr/bin/env bash
# Run a command with a streaming replica of the local PostgreSQL 15 (127.0.0.1:5432) beside it:
# a second cluster made by pg_basebackup -R on a free port, named by FOILOG_TEST_REPLICA_URL in
# the command's environment, stopped and removed afterwards whatever the command did, with the
# pg_hba.conf replication line it added (if it added one).
# Needs root (it acts as the postgres user) and the primary's trust authentication.
set -euo pipefail

PRIMARY_HOST=127.0.0.1
PRIMARY_PORT=5432
VERSION=$(ls /etc/postgresql | sort -n | tail -1)
HBA=/etc/postgresql/$VERSION/main/pg_hba.conf
NAME=foilog_replica_$$
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATA=/var/lib/postgresql/$VERSION/$NAME
# The line this run adds, marked as its own so that only it is taken out again.
HBA_LINE="host replication all 127.0.0.1/32 trust # added by with-replica.sh ($NAME)"
ADDED_HBA=""

as_postgres() { runuser -u postgres -- "$@"; }
reload_primary() {
  psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -qAtc "SELECT pg_reload_conf()" >/dev/null
}

remove() {
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" stop -m immediate >/dev/null 2>&1 || true
  pg_dropcluster "$VERSION" "$NAME" >/dev/null 2>&1 || true
  rm -rf "$DATA"
  if [ -n "$ADDED_HBA" ]; then
    # In place (sed -i would replace the file, losing its owner and mode); other runs' lines stay.
    kept=$(grep -vxF "$HBA_LINE" "$HBA" || true)
    printf '%s\n' "$kept" > "$HBA"
    reload_primary || true
  fi
}
trap remove EXIT
trap 'exit 143' INT TERM  # runs the EXIT trap

if ! pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT"; then
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" main start
  for _ in $(seq 30); do pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" && break; sleep 1; done
fi
# Streaming replication needs wal_level replica (PostgreSQL's default) and a replication
# entry in pg_hba.conf; add one for the loopback address if there is none (another run's, taken
# out when that run ends, does not count), and take it out on exit.
level=$(psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -Atc "SHOW wal_level")
if [ "$level" = minimal ]; then
  echo "wal_level is minimal on the primary: a replica needs 'replica' (restart needed)" >&2
  exit 1
fi
if ! grep -v 'added by with-replica.sh' "$HBA" |
  grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32'; then
  ADDED_HBA=1
  echo "$HBA_LINE" >> "$HBA"
  reload_primary
fi

pg_createcluster "$VERSION" "$NAME" --port "$PORT" >/dev/null
cp "$HBA" "/etc/postgresql/$VERSION/$NAME/pg_hba.conf"  # the primary's (trust) authentication
rm -rf "${DATA:?}"/*
as_postgres pg_basebackup -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -D "$DATA" -R -X stream -c fast
pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" start
for _ in $(seq 60); do pg_isready -q -h 127.0.0.1 -p "$PORT" && break; sleep 1; done
[ "$(psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc 'SELECT pg_is_in_recovery()')" = t ]

FOILOG_TEST_REPLICA_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres" "$@"
