#!/usr/bin/env bash
# Start and stop the real Redis and PostgreSQL servers the app and tests use, by PID, on
# loopback only. There is no systemd: each server lives in a folder of its own.
#   services.sh start-redis DIR PORT
#   services.sh start-postgres DIR PORT      (prints nothing; DATABASE_URL is postgres://genegate@127.0.0.1:PORT/genegate,
#                                             a role that owns the database but is not a superuser)
#   services.sh stop DIR                     (stops whatever was started in DIR)
set -euo pipefail

pg_bindir() {
  # The newest installed PostgreSQL server's bin directory (15 on Debian 12, 17 on Debian 13).
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$d" ] && command -v pg_ctl >/dev/null; then d=$(dirname "$(command -v pg_ctl)"); fi
  [ -n "$d" ] || { echo "services: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }
  echo "$d"
}

as_pg() {
  # PostgreSQL refuses to run as root: run it as the Debian 'postgres' user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_for() {
  local what=$1; shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "services: $what did not start" >&2
  return 1
}

cmd=${1:-}
case "$cmd" in
  start-redis)
    dir=$(realpath -m "$2"); port=$3
    mkdir -p "$dir"
    if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then exit 0; fi
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    wait_for "redis on $port" redis-cli -p "$port" ping
    ;;
  start-postgres)
    dir=$(realpath -m "$2"); port=$3
    bindir=$(pg_bindir)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
      as_pg "$bindir/initdb" -D "$dir/pgdata" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
        || as_pg "$bindir/initdb" -D "$dir/pgdata" -U postgres -A trust -E UTF8 >/dev/null
    fi
    if ! as_pg "$bindir/pg_ctl" -D "$dir/pgdata" status >/dev/null 2>&1; then
      as_pg "$bindir/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 30 \
        -o "-p $port -h 127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    fi
    psql_bin="$bindir/psql"
    # The application's role owns its database and tables but is not a superuser (issue 13 item 9):
    # a superuser could switch off the audit trail's append-only triggers. CREATEDB: the test
    # suite creates its test database, and a restore checks a backup in a scratch database.
    # A role left a superuser by an older version of this script is demoted.
    if as_pg "$psql_bin" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='genegate'" | grep -q 1; then
      as_pg "$psql_bin" -h 127.0.0.1 -p "$port" -U postgres -qc "ALTER ROLE genegate LOGIN NOSUPERUSER CREATEDB NOCREATEROLE"
    else
      as_pg "$psql_bin" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE ROLE genegate LOGIN NOSUPERUSER CREATEDB NOCREATEROLE"
    fi
    as_pg "$psql_bin" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='genegate'" | grep -q 1 \
      || as_pg "$psql_bin" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE genegate OWNER genegate"
    ;;
  restart-postgres)
    dir=$(realpath -m "$2"); bindir=$(pg_bindir)
    as_pg "$bindir/pg_ctl" -D "$dir/pgdata" -w -t 30 -m fast restart >/dev/null
    ;;
  stop-redis)
    dir=$(realpath -m "$2")
    if [ -f "$dir/redis.pid" ]; then
      pid=$(cat "$dir/redis.pid")
      if ps -p "$pid" -o comm= 2>/dev/null | grep -q '^redis-server'; then kill "$pid" 2>/dev/null || true; fi
      rm -f "$dir/redis.pid"
    fi
    ;;
  stop)
    # DIR is a server's own folder or the folder make test / make bench / make run give
    # (holding redis/ and pg/). A Redis pid is killed only if that process is a redis-server.
    dir=$(realpath -m "$2")
    for pidfile in "$dir/redis.pid" "$dir/redis/redis.pid"; do
      if [ -f "$pidfile" ]; then
        pid=$(cat "$pidfile")
        if ps -p "$pid" -o comm= 2>/dev/null | grep -q '^redis-server'; then kill "$pid" 2>/dev/null || true; fi
        rm -f "$pidfile"
      fi
    done
    for pgdata in "$dir/pgdata" "$dir/pg/pgdata"; do
      if [ -f "$pgdata/postmaster.pid" ]; then
        as_pg "$(pg_bindir)/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
      fi
    done
    ;;
  pg-bindir) pg_bindir ;;
  *) echo "usage: $0 start-redis DIR PORT | start-postgres DIR PORT | restart-postgres DIR | stop-redis DIR | stop DIR" >&2; exit 2 ;;
esac
