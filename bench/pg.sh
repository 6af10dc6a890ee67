# Sourced by the benchmarks: a throwaway PostgreSQL cluster on a free loopback port, with the
# binaries scripts/test.sh installs (Debian's packages). Sets BENCH_PG_URL.
# shellcheck shell=bash

bench_as_postgres() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_bench_postgres() {
    local base=$1
    BENCH_PG_BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1)")
    [[ -x $BENCH_PG_BIN/initdb ]] || { echo "PostgreSQL binaries not found (run scripts/test.sh once)" >&2; exit 2; }
    BENCH_PG_DIR=$(mktemp -d "$base/grove-bench-pg.XXXXXX")
    chmod 755 "$BENCH_PG_DIR"
    if [[ $(id -u) == 0 ]]; then chown postgres:postgres "$BENCH_PG_DIR"; fi
    bench_as_postgres "$BENCH_PG_BIN/initdb" -D "$BENCH_PG_DIR/data" -U grove --auth=trust -E UTF8 \
        --locale=C --no-sync >/dev/null
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    bench_as_postgres "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DIR/data" -l "$BENCH_PG_DIR/server.log" -w -t 60 \
        -o "-p $port -k $BENCH_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
            -c shared_buffers=1GB -c work_mem=64MB -c max_connections=200" start >/dev/null
    BENCH_PG_URL="postgres://grove@127.0.0.1:$port/postgres"
}

stop_bench_postgres() {
    if [[ -n ${BENCH_PG_DIR:-} ]]; then
        bench_as_postgres "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$BENCH_PG_DIR"
        BENCH_PG_DIR=
    fi
}
