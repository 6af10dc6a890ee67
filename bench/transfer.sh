#!/usr/bin/env bash
# Grove transfer benchmark: large-file download and upload throughput against same-run references.
#
#   bench/transfer.sh [download] [upload]        (default: both)
#
# Download: the same file served by Grove (resolve of an LFS-stored file) and by a throwaway nginx on
# loopback, full GET and a Range GET, runs alternating; ratio of medians grove/nginx (goal >= 0.8).
# Upload: LFS batch API basic transfer, the PUT alone timed, against `openssl dgst -sha256` of the
# same page-cached file timed the same way; ratio of medians upload/hash (goal >= 0.7).
# Server memory: peak RSS of the grove process (VmHWM per phase, and VmRSS sampled), goal < 200 MiB.
#
# A benchmark, not a test: it prints figures and ratios; it exits 0 when every requested part was
# measured (whatever the ratios), 2 when a part could not be measured, 1 on a setup error.
# Settings (environment): BENCH_SIZE_MIB (2048), BENCH_RUNS (5), BENCH_DIR (${TMPDIR:-/tmp}),
# BENCH_GROVE_BIN (skip the build and use this binary), BENCH_KEEP=1 (keep the work dir).
# See bench/README.md.
# shellcheck disable=SC2317  # functions invoked through waitfor and the trap
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZE_MIB=${BENCH_SIZE_MIB:-2048}
RUNS=${BENCH_RUNS:-5}
BASE_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
REPO_OWNER=bench
REPO_NAME=bench

# ---------------------------------------------------------------------------------------------
# Arguments and small helpers
# ---------------------------------------------------------------------------------------------

DO_DOWNLOAD=0 DO_UPLOAD=0
if [[ $# -eq 0 ]]; then DO_DOWNLOAD=1 DO_UPLOAD=1; fi
for arg in "$@"; do
    case $arg in
        download) DO_DOWNLOAD=1 ;;
        upload) DO_UPLOAD=1 ;;
        -h | --help) sed -n '2,/^# See bench/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [download] [upload]" >&2; exit 1 ;;
    esac
done
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_SIZE_MIB must be a positive integer" >&2; exit 1; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RUNS must be a positive integer" >&2; exit 1; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
SIZE=$((SIZE_MIB * 1024 * 1024))
# 1 GiB Range GET on the full-size file; half the file when it is smaller than 2 GiB.
RANGE_LEN=$((SIZE >= 2 * 1073741824 ? 1073741824 : SIZE / 2))
RANGE_HDR="bytes=0-$((RANGE_LEN - 1))"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# median of the arguments (mean of the two middle values for an even count)
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
# MB/s (10^6 bytes) from bytes/s
mbps() { awk -v b="$1" 'BEGIN {printf "%.1f", b/1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0 ? a/b : 0)}'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN {print (r >= g ? "meets goal" : "BELOW GOAL")}'; }
# seconds elapsed since $1 (an $EPOCHREALTIME value)
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.6f", b-a}'; }

# ---------------------------------------------------------------------------------------------
# Work dir and cleanup
# ---------------------------------------------------------------------------------------------

GROVE_PID='' NGINX_PID='' SAMPLER_PID='' WAIT_PID=''
mkdir -p "$BASE_DIR"
WORK=$(mktemp -d "$BASE_DIR/grove-bench.XXXXXX")
# Is this child process still running (not exited, not a zombie)?
alive() {
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [[ ${st:0:1} != Z ]]
}
# Stops a background process started by this script, by its pid (nothing when empty), and its
# direct children (the parts of a pipeline run through waitfor); SIGKILL after 5 s.
stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    [[ -n $pid ]] || return 0
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
# Runs a long command in the background and waits for it, so that a TERM or INT interrupts the
# wait at once (a trap would otherwise run only after the command) and the cleanup stops it.
waitfor() {
    "$@" &
    WAIT_PID=$!
    local rc=0
    wait "$WAIT_PID" || rc=$?
    WAIT_PID=''
    return "$rc"
}
cleanup() {
    stop_pid "$WAIT_PID"
    stop_pid "$SAMPLER_PID"
    stop_pid "$NGINX_PID"
    stop_pid "$GROVE_PID" INT # actix: INT stops at once, TERM waits for open requests
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Grove reads GROVE_* settings from the environment: the benchmark wants the embedded default.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^GROVE_' || true)

# Space: the file, the upload copy, Grove's copy for downloads and its spool, one blob per upload.
need_mib=$((SIZE_MIB * (4 + (DO_UPLOAD ? RUNS + 1 : 0)) + 512))
avail_mib=$(df -Pm "$WORK" | awk 'NR==2 {print $4}')
((avail_mib >= need_mib)) || die "$WORK has $avail_mib MiB free, the benchmark needs about $need_mib MiB"

# ---------------------------------------------------------------------------------------------
# Build Grove and find nginx
# ---------------------------------------------------------------------------------------------

if [[ -n ${BENCH_GROVE_BIN:-} ]]; then
    GROVE=$BENCH_GROVE_BIN
else
    log "building: cargo build --release -p grove-hub --bin grove"
    (cd "$ROOT" && cargo build --release -p grove-hub --bin grove) >&2 || die "the release build failed"
    target_dir=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
    GROVE=$target_dir/release/grove
fi
[[ -x $GROVE ]] || die "no grove binary at $GROVE"

if [[ $DO_DOWNLOAD == 1 ]]; then
    NGINX=$(command -v nginx || true)
    [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
    if [[ -z $NGINX ]]; then
        [[ $EUID == 0 ]] || die "nginx is missing: install it (apt-get install -y nginx)"
        log "installing nginx"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >&2 \
            || die "cannot install nginx"
        NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    fi
fi

# ---------------------------------------------------------------------------------------------
# The test file (random, incompressible)
# ---------------------------------------------------------------------------------------------

mkdir -p "$WORK/files" "$WORK/grove"
FILE=$WORK/files/big.bin
log "writing a $SIZE_MIB MiB random file in $WORK"
waitfor head -c "$SIZE" /dev/urandom >"$FILE"
waitfor openssl dgst -sha256 -r "$FILE" >"$WORK/dgst.out"
FILE_SHA=$(cut -d' ' -f1 "$WORK/dgst.out")

# ---------------------------------------------------------------------------------------------
# Grove: account, token, server, repo
# ---------------------------------------------------------------------------------------------

DATA=$WORK/grove
"$GROVE" user create bench --data-dir "$DATA" >/dev/null || die "grove user create failed"
TOKEN=$("$GROVE" token create bench --scope write --data-dir "$DATA") || die "grove token create failed"
"$GROVE" serve --listen 127.0.0.1:0 --data-dir "$DATA" >"$WORK/grove.out" 2>"$WORK/grove.log" &
GROVE_PID=$!
for _ in $(seq 600); do
    grep -q '^listening on http://' "$WORK/grove.out" 2>/dev/null && break
    kill -0 "$GROVE_PID" 2>/dev/null || { tail -20 "$WORK/grove.log" >&2; die "grove serve exited"; }
    sleep 0.1
done
GROVE_URL=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$WORK/grove.out" | head -1)
[[ -n $GROVE_URL ]] || die "grove serve did not print its address"
log "grove (pid $GROVE_PID) at $GROVE_URL"

# Memory: VmRSS sampled every 0.1 s in the background (until rss.on is removed); VmHWM read and
# reset per phase. CPU: the server's user+system time per phase, against the bytes moved.
RSS_MAX_FILE=$WORK/rss.max RSS_ON=$WORK/rss.on
echo 0 >"$RSS_MAX_FILE"
touch "$RSS_ON"
(
    peak=0
    while [[ -e $RSS_ON && -r /proc/$GROVE_PID/status ]]; do
        while read -r key val _; do
            if [[ $key == VmRSS: ]]; then
                if ((val > peak)); then peak=$val; echo "$peak" >"$RSS_MAX_FILE"; fi
                break
            fi
        done <"/proc/$GROVE_PID/status" 2>/dev/null || true
        sleep 0.1
    done
) &
SAMPLER_PID=$!
status_kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$GROVE_PID/status"; }
# utime + stime of the server, in clock ticks (fields 14 and 15 of /proc/PID/stat)
cpu_ticks() {
    local st f
    st=$(<"/proc/$GROVE_PID/stat")
    read -r -a f <<<"${st##*) }"
    echo $((f[11] + f[12]))
}
CLK_TCK=$(getconf CLK_TCK)
# Per phase: peak RSS (KiB; the counter is then reset with clear_refs 5), CPU ticks, bytes moved.
PHASES=() HWMS=() CPUS=() MOVED=()
PHASE_TICKS=$(cpu_ticks) BYTES_MOVED=0
phase_end() {
    local ticks
    ticks=$(cpu_ticks)
    PHASES+=("$1")
    HWMS+=("$(status_kib VmHWM)")
    CPUS+=("$((ticks - PHASE_TICKS))")
    MOVED+=("$BYTES_MOVED")
    echo 5 >"/proc/$GROVE_PID/clear_refs" 2>/dev/null || true
    PHASE_TICKS=$(cpu_ticks) BYTES_MOVED=0
}

AUTH=(-H "Authorization: Bearer $TOKEN")
code=$(curl -s -o "$WORK/create.json" -w '%{http_code}' -X POST "${AUTH[@]}" \
    -H 'Content-Type: application/json' -d "{\"name\": \"$REPO_NAME\"}" "$GROVE_URL/api/repos/create")
[[ $code == 200 ]] || die "create repo: HTTP $code $(cat "$WORK/create.json")"
RESOLVE_URL=$GROVE_URL/$REPO_OWNER/$REPO_NAME/resolve/main/big.bin

# The X-Linked-Etag of big.bin on main (the sha256 when Grove stores it as LFS).
linked_etag() {
    curl -s -I "$RESOLVE_URL" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-linked-etag" {gsub(/"/, "", $2); print $2}'
}

phase_end startup
RESULTS=()
STATUS=0

# ---------------------------------------------------------------------------------------------
# Download
# ---------------------------------------------------------------------------------------------

# One GET; sets SPEED (bytes/s). Args: url, expected status, expected bytes, [range]
get_speed() {
    local url=$1 want_code=$2 want_bytes=$3 range=${4:-} c n s
    local args=(-s -o /dev/null -w '%{http_code} %{size_download} %{speed_download}')
    [[ -n $range ]] && args+=(-H "Range: $range")
    waitfor curl "${args[@]}" "$url" >"$WORK/get.out" || true
    read -r c n s <"$WORK/get.out" || true
    [[ $c == "$want_code" && $n == "$want_bytes" ]] \
        || die "GET $url ${range:+($range) }gave HTTP $c with $n bytes, expected $want_code with $want_bytes"
    [[ $url == "$RESOLVE_URL" ]] && BYTES_MOVED=$((BYTES_MOVED + n))
    SPEED=$s
}

# Alternating runs of grove and nginx (grove first on odd runs). Args: label, code, bytes, [range]
download_series() {
    local label=$1 code=$2 bytes=$3 range=${4:-} i g n
    local -a gs=() ns=()
    for ((i = 1; i <= RUNS; i++)); do
        if ((i % 2)); then
            get_speed "$RESOLVE_URL" "$code" "$bytes" "$range" && g=$SPEED
            get_speed "$NGINX_URL" "$code" "$bytes" "$range" && n=$SPEED
        else
            get_speed "$NGINX_URL" "$code" "$bytes" "$range" && n=$SPEED
            get_speed "$RESOLVE_URL" "$code" "$bytes" "$range" && g=$SPEED
        fi
        gs+=("$g") ns+=("$n")
        printf '%-22s run %d: grove %8s MB/s   nginx %8s MB/s\n' "$label" "$i" "$(mbps "$g")" "$(mbps "$n")"
    done
    local gm nm r
    gm=$(median "${gs[@]}") nm=$(median "${ns[@]}") r=$(ratio "$gm" "$nm")
    printf '%-22s median: grove %8s MB/s   nginx %8s MB/s   grove/nginx %s (goal >= 0.8: %s)\n' \
        "$label" "$(mbps "$gm")" "$(mbps "$nm")" "$r" "$(verdict "$r" 0.8)"
    RESULTS+=("$(printf '%-20s grove %8s MB/s  nginx %8s MB/s  ratio %s  goal >= 0.8  %s' \
        "$label" "$(mbps "$gm")" "$(mbps "$nm")" "$r" "$(verdict "$r" 0.8)")")
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((20000 + RANDOM % 20000))
}

start_nginx() {
    local dir=$WORK/nginx port
    mkdir -p "$dir/tmp"
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        cat >"$dir/nginx.conf" <<EOF
# Throwaway nginx for bench/transfer.sh: one worker, loopback only, no logs.
$(if ((EUID == 0)); then echo 'user root;'; fi)
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile ${BENCH_NGINX_SENDFILE:-on};
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $WORK/files;
    }
}
EOF
        "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
        NGINX_PID=$!
        for _ in $(seq 50); do
            curl -s -o /dev/null -r 0-0 "http://127.0.0.1:$port/big.bin" && break
            kill -0 "$NGINX_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$NGINX_PID" 2>/dev/null; then
            NGINX_URL=http://127.0.0.1:$port/big.bin
            log "nginx (pid $NGINX_PID) at $NGINX_URL, sendfile ${BENCH_NGINX_SENDFILE:-on}"
            return 0
        fi
        wait "$NGINX_PID" 2>/dev/null || true
        NGINX_PID=''
    done
    cat "$dir/error.log" >&2
    die "nginx did not start"
}

# The NDJSON body of a commit adding the test file inline (base64).
inline_commit_body() {
    printf '{"key":"header","value":{"summary":"bench download file"}}\n'
    printf '{"key":"file","value":{"content":"'
    base64 -w0 "$FILE"
    printf '","path":"big.bin","encoding":"base64"}}\n'
}
# Posts it, streamed (chunked); prints the HTTP status.
post_inline_commit() {
    inline_commit_body | curl -s -o "$WORK/commit.json" -w '%{http_code}' -X POST -T - -H 'Expect:' \
        "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' \
        "$GROVE_URL/api/models/$REPO_OWNER/$REPO_NAME/commit/main"
}
# Prints the sha256 of what Grove serves for big.bin.
served_sha256() {
    curl -s "$RESOLVE_URL" | openssl dgst -sha256 -r | cut -d' ' -f1
}

if [[ $DO_DOWNLOAD == 1 ]]; then
    # Into Grove with an inline (base64) commit: Grove stores a large binary file as LFS in its
    # blob store. This does not need the LFS batch endpoint.
    log "committing the file inline (base64, streamed)"
    t0=$EPOCHREALTIME
    waitfor post_inline_commit >"$WORK/code" || true
    code=$(cat "$WORK/code")
    [[ $code == 200 ]] || die "inline commit: HTTP $code $(cat "$WORK/commit.json")"
    log "inline commit took $(since "$t0") s"
    BYTES_MOVED=$((BYTES_MOVED + SIZE))
    etag=$(linked_etag)
    [[ $etag == "$FILE_SHA" ]] || die "big.bin is not served as the LFS object $FILE_SHA (X-Linked-Etag: '$etag')"
    phase_end "inline commit"

    start_nginx

    # Warm-up (not counted): checks Grove serves exactly the file's bytes, and warms both paths.
    waitfor served_sha256 >"$WORK/served.sha"
    got=$(cat "$WORK/served.sha")
    BYTES_MOVED=$((BYTES_MOVED + SIZE))
    [[ $got == "$FILE_SHA" ]] || die "grove served different bytes (sha256 $got, expected $FILE_SHA)"
    get_speed "$NGINX_URL" 200 "$SIZE"
    get_speed "$RESOLVE_URL" 206 "$RANGE_LEN" "$RANGE_HDR"
    get_speed "$NGINX_URL" 206 "$RANGE_LEN" "$RANGE_HDR"

    echo
    echo "== download: $SIZE_MIB MiB file, $RUNS runs each, alternating (curl speed_download, MB = 10^6 bytes)"
    download_series "GET full" 200 "$SIZE"
    download_series "GET $((RANGE_LEN >> 20)) MiB Range" 206 "$RANGE_LEN" "$RANGE_HDR"
    phase_end download
    stop_pid "$NGINX_PID"
    NGINX_PID=''
fi

# ---------------------------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------------------------

LFS_HDRS=(-H 'Accept: application/vnd.git-lfs+json' -H 'Content-Type: application/vnd.git-lfs+json')
BATCH_URL=$GROVE_URL/$REPO_OWNER/$REPO_NAME.git/info/lfs/objects/batch

# One upload run of UP_FILE: batch, PUT (timed), verify if asked, commit. Sets PUT_SECS.
upload_once() {
    local oid=$1 code href verify t0
    code=$(curl -s -o "$WORK/batch.json" -w '%{http_code}' -X POST "${AUTH[@]}" "${LFS_HDRS[@]}" \
        -d "{\"operation\":\"upload\",\"transfers\":[\"basic\"],\"objects\":[{\"oid\":\"$oid\",\"size\":$SIZE}],\"hash_algo\":\"sha256\"}" \
        "$BATCH_URL")
    [[ $code == 200 ]] || die "LFS batch: HTTP $code $(head -c 500 "$WORK/batch.json")"
    href=$(jq -r '.objects[0].actions.upload.href // empty' "$WORK/batch.json")
    verify=$(jq -r '.objects[0].actions.verify.href // empty' "$WORK/batch.json")
    [[ -n $href ]] || die "LFS batch gave no upload action for a new object: $(head -c 500 "$WORK/batch.json")"
    [[ $(jq -r '.objects[0].actions.upload.header.chunk_size // empty' "$WORK/batch.json") == '' ]] \
        || die "LFS batch answered a multipart upload to a basic-only request"
    t0=$EPOCHREALTIME
    waitfor curl -s -o "$WORK/put.out" -w '%{http_code}' -H 'Expect:' -T "$UP_FILE" "$href" >"$WORK/code" || true
    PUT_SECS=$(since "$t0")
    BYTES_MOVED=$((BYTES_MOVED + SIZE))
    code=$(cat "$WORK/code")
    [[ $code == 2?? ]] || die "PUT $href: HTTP $code $(head -c 500 "$WORK/put.out")"
    if [[ -n $verify ]]; then
        code=$(curl -s -o "$WORK/verify.out" -w '%{http_code}' -X POST "${AUTH[@]}" "${LFS_HDRS[@]}" \
            -d "{\"oid\":\"$oid\",\"size\":$SIZE}" "$verify")
        [[ $code == 2?? ]] || die "LFS verify: HTTP $code $(head -c 500 "$WORK/verify.out")"
    fi
    code=$(printf '%s\n%s\n' '{"key":"header","value":{"summary":"bench upload"}}' \
        "{\"key\":\"lfsFile\",\"value\":{\"path\":\"big.bin\",\"algo\":\"sha256\",\"oid\":\"$oid\",\"size\":$SIZE}}" |
        curl -s -o "$WORK/commit.json" -w '%{http_code}' -X POST "${AUTH[@]}" \
            -H 'Content-Type: application/x-ndjson' --data-binary @- \
            "$GROVE_URL/api/models/$REPO_OWNER/$REPO_NAME/commit/main")
    [[ $code == 200 ]] || die "commit of the uploaded object: HTTP $code $(cat "$WORK/commit.json")"
    [[ $(linked_etag) == "$oid" ]] || die "after the commit big.bin is not the uploaded object $oid"
}

# Writes the run number into the first 8 bytes (distinct content per run), then hashes the file
# (timed: the reference). Sets RUN_OID and RUN_HASH_SECS.
prepare_run() {
    printf '%08d' "$1" | dd of="$UP_FILE" bs=8 count=1 conv=notrunc status=none
    local t0=$EPOCHREALTIME
    waitfor openssl dgst -sha256 -r "$UP_FILE" >"$WORK/dgst.out"
    RUN_HASH_SECS=$(since "$t0")
    RUN_OID=$(cut -d' ' -f1 "$WORK/dgst.out")
}

if [[ $DO_UPLOAD == 1 ]]; then
    probe=$(curl -s -o "$WORK/batch.json" -w '%{http_code}' -X POST "${AUTH[@]}" "${LFS_HDRS[@]}" \
        -d '{"operation":"upload","transfers":["basic"],"objects":[{"oid":"'"$(printf '0%.0s' {1..64})"'","size":1}],"hash_algo":"sha256"}' \
        "$BATCH_URL")
    if [[ $probe != 200 ]]; then
        echo
        echo "== upload: NOT MEASURED: POST $BATCH_URL answers HTTP $probe ($(head -c 200 "$WORK/batch.json"))"
        RESULTS+=("upload PUT           NOT MEASURED (LFS batch endpoint answers HTTP $probe)")
        STATUS=2
    else
        UP_FILE=$WORK/files/up.bin
        waitfor cp "$FILE" "$UP_FILE"
        # Warm-up run 0 (not counted).
        prepare_run 0
        upload_once "$RUN_OID"
        echo
        echo "== upload: $SIZE_MIB MiB, $RUNS runs, each: openssl dgst -sha256 (timed) then LFS basic PUT (timed), MB = 10^6 bytes"
        us=() hs=()
        for ((i = 1; i <= RUNS; i++)); do
            prepare_run "$i"
            upload_once "$RUN_OID"
            u=$(awk -v b="$SIZE" -v s="$PUT_SECS" 'BEGIN {print b/s}')
            h=$(awk -v b="$SIZE" -v s="$RUN_HASH_SECS" 'BEGIN {print b/s}')
            us+=("$u") hs+=("$h")
            printf '%-22s run %d: upload %8s MB/s   sha256 %8s MB/s\n' "PUT" "$i" "$(mbps "$u")" "$(mbps "$h")"
        done
        um=$(median "${us[@]}") hm=$(median "${hs[@]}") r=$(ratio "$um" "$hm")
        printf '%-22s median: upload %8s MB/s   sha256 %8s MB/s   upload/hash %s (goal >= 0.7: %s)\n' \
            "PUT" "$(mbps "$um")" "$(mbps "$hm")" "$r" "$(verdict "$r" 0.7)"
        RESULTS+=("$(printf '%-20s upload %7s MB/s  sha256 %7s MB/s  ratio %s  goal >= 0.7  %s' \
            "upload PUT" "$(mbps "$um")" "$(mbps "$hm")" "$r" "$(verdict "$r" 0.7)")")
        phase_end upload
    fi
fi

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------

rm -f "$RSS_ON"
wait "$SAMPLER_PID" || true
SAMPLER_PID=''
echo
echo "== grove server memory and CPU time per phase (pid $GROVE_PID; CPU = user + system)"
peak_hwm=0
for i in "${!PHASES[@]}"; do
    printf '%-22s VmHWM %7.1f MiB   CPU %6.2f s   %6.2f GiB moved%s\n' "${PHASES[$i]}" \
        "$(awk -v k="${HWMS[$i]}" 'BEGIN {print k/1024}')" \
        "$(awk -v t="${CPUS[$i]}" -v h="$CLK_TCK" 'BEGIN {print t/h}')" \
        "$(awk -v b="${MOVED[$i]}" 'BEGIN {print b/1073741824}')" \
        "$(awk -v t="${CPUS[$i]}" -v h="$CLK_TCK" -v b="${MOVED[$i]}" \
            'BEGIN {if (b > 0) printf "   %.2f CPU s per GiB", (t/h)/(b/1073741824)}')"
    ((HWMS[i] > peak_hwm)) && peak_hwm=${HWMS[$i]}
done
rss_sampled=$(cat "$RSS_MAX_FILE")
printf '%-22s VmHWM %7.1f MiB, sampled VmRSS max %.1f MiB (every 0.1 s)\n' "overall" \
    "$(awk -v k="$peak_hwm" 'BEGIN {print k/1024}')" "$(awk -v k="$rss_sampled" 'BEGIN {print k/1024}')"
mem_verdict=$(awk -v k="$peak_hwm" 'BEGIN {print (k < 200*1024 ? "meets goal" : "BELOW GOAL")}')
RESULTS+=("$(printf '%-20s peak RSS %.1f MiB  goal < 200 MiB  %s' "server memory" "$(awk -v k="$peak_hwm" 'BEGIN {print k/1024}')" "$mem_verdict")")

echo
echo "== summary: $SIZE_MIB MiB, $RUNS runs, $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+changes')${NGINX:+, $("$NGINX" -v 2>&1 | sed 's/.*: //')}"
echo "load average (1/5/15 min): $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
printf '%s\n' "${RESULTS[@]}"
exit "$STATUS"
