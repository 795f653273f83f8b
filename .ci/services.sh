#!/usr/bin/env bash
# Starts a private PostgreSQL and Redis on loopback for the tests, unique to this run, and prints the
# shell lines that point the tests at them:
#   eval "$(.ci/services.sh start)"   → exports BUDDYLINK_TEST_POSTGRES, BUDDYLINK_TEST_REDIS,
#                                      BUDDYLINK_TEST_SERVICES_DIR
#   .ci/services.sh stop DIR          → stops both and deletes DIR
# PostgreSQL refuses to run as root: initdb and pg_ctl run as the `postgres` user into a temp dir.
set -euo pipefail

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] || { echo "services.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
  echo "$dir"
}

start() {
  command -v redis-server >/dev/null || { echo "services.sh: redis-server is not installed" >&2; exit 1; }
  local bin dir pg_port redis_port db
  bin=$(pg_bin)
  dir=$(mktemp -d /tmp/buddylink-services.XXXXXX)
  # A start that fails half-way leaves nothing running and nothing on disk.
  trap 'stop "$dir" >/dev/null 2>&1' ERR
  chmod 755 "$dir"
  mkdir "$dir/pg" "$dir/redis"
  chown postgres:postgres "$dir/pg"
  pg_port=$(free_port)
  redis_port=$(free_port)
  db="buddylink_$(basename "$dir" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
  su postgres -s /bin/sh -c "'$bin/initdb' -D '$dir/pg/data' -A trust -U postgres --no-sync" >"$dir/pg/initdb.log" 2>&1
  # Sockets in the run's own folder, TCP on loopback only; fsync off: test data need not survive a crash.
  su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$dir/pg/data' -l '$dir/pg/server.log' -w -t 30 \
    -o \"-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" \
    >"$dir/pg/pg_ctl.log" 2>&1
  su postgres -s /bin/sh -c "'$bin/createdb' -h 127.0.0.1 -p $pg_port -U postgres '$db'"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --dir "$dir/redis"
  for _ in $(seq 1 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "export BUDDYLINK_TEST_SERVICES_DIR='$dir'"
  echo "export BUDDYLINK_TEST_POSTGRES='postgres://postgres@127.0.0.1:$pg_port/$db'"
  # The key prefix is unique to the run, so that two runs could even share one Redis.
  echo "export BUDDYLINK_TEST_REDIS='redis://127.0.0.1:$redis_port/0'"
  echo "export BUDDYLINK_TEST_REDIS_PREFIX='$(basename "$dir"):'"
}

stop() {
  local dir=$1 bin
  [ -d "$dir" ] || exit 0
  case "$dir" in /tmp/buddylink-services.*) ;; *) echo "services.sh: not a services dir: $dir" >&2; exit 1 ;; esac
  bin=$(pg_bin)
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$dir/pg/data' -m immediate -w stop" >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/redis/redis.pid" ]; then
    kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:?usage: services.sh stop DIR}" ;;
  *) echo "usage: services.sh start | stop DIR" >&2; exit 2 ;;
esac
