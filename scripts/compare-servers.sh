#!/usr/bin/env bash
# Same server, other runtime: loads the comparison servers (benches/src/servers.rs, one source
# compiled against tokio and against asincrono) with wrk and redis-benchmark, and prints one
# table of medians. The "hyper" row is one hyper service (benches/src/hyper_service.rs) on
# tokio through hyper-util's adapters and on asincrono through compat/hyper's.
#
# Takes about 4.5 minutes after the release build (ROUNDS=3, both flavours): each round runs,
# per runtime and flavour, wrk for 5 s on each HTTP row (GET /, GET /file: an 18-byte file
# read from disk at every request, and hyper's GET /) and redis-benchmark for SET and GET,
# 100,000 requests one at a time and 1,600,000 sixteen to a batch.
#
#   scripts/compare-servers.sh                  # both flavours, 3 rounds
#   ROUNDS=5 FLAVOURS=multi_thread scripts/compare-servers.sh
#
# The runtimes alternate (tokio, asincrono, then asincrono, tokio, ...), each run on a fresh
# server process, and the table shows the median of the rounds. "ratio" is asincrono ÷ tokio
# for requests per second: above 1.0, asincrono served more. p99 is the 99th-percentile
# latency as the load tool reports it, in milliseconds (median over the rounds).
#
# Needs wrk and redis-benchmark: apt-get install -y wrk redis-tools
set -euo pipefail

ROUNDS=${ROUNDS:-3}
FLAVOURS=${FLAVOURS:-"multi_thread current_thread"}
WRK_SECONDS=${WRK_SECONDS:-5}
REQUESTS=${REQUESTS:-100000}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
if ((${#missing[@]})); then
    echo "compare-servers: needs wrk and redis-benchmark; install with: apt-get install -y ${missing[*]}" >&2
    exit 1
fi

cd "$(dirname "$0")/.."
echo "building the serve binary (release)..." >&2
cargo build --release -j 1 -q -p asincrono-bench --bin serve
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
serve="$target_dir/release/serve"

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Starts `serve $1 $2 $3` on a free port; sets server_pid and port once it accepts.
start_server() {
    "$serve" "$@" >"$work/serve.out" 2>&1 &
    server_pid=$!
    local tries addr=
    for tries in $(seq 100); do
        addr=$(sed -n 's/.* listening on //p' "$work/serve.out")
        [[ -n $addr ]] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -z $addr ]]; then
        echo "compare-servers: serve $* did not start: $(cat "$work/serve.out")" >&2
        exit 1
    fi
    port=${addr##*:}
    # It printed the address after binding; make sure it really accepts.
    for tries in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return; fi
        sleep 0.05
    done
    echo "compare-servers: serve $* never accepted on port $port" >&2
    exit 1
}

stop_server() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

# wrk's latency figures come with a unit (us, ms, s); prints milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /s$/) n *= 1000
        printf "%.3f", n
    }'
}

# One line per measurement: tool workload flavour runtime rps p99_ms
results="$work/results"
: >"$results"

# wrk for WRK_SECONDS against `serve SERVER RUNTIME FLAVOUR`, GET PATH; one results line.
wrk_row() { # server path label runtime flavour
    local server=$1 path=$2 label=$3 runtime=$4 flavour=$5 out rps p99
    start_server "$server" "$runtime" "$flavour"
    out=$(wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency "http://127.0.0.1:$port$path")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    echo "wrk $label $flavour $runtime $rps $p99" >>"$results"
    stop_server
}

measure() { # runtime flavour
    local runtime=$1 flavour=$2
    wrk_row http / GET_/ "$runtime" "$flavour"
    wrk_row http /file GET_/file "$runtime" "$flavour"
    wrk_row hyper / hyper_GET_/ "$runtime" "$flavour"

    start_server kv "$runtime" "$flavour"
    local pipeline label
    for pipeline in 1 16; do
        label=""
        ((pipeline > 1)) && label="_-P$pipeline"
        # As many requests again per pipelined one, so that every row lasts about as long:
        # 100,000 requests 16 to a batch took about 0.1 s, and moved by ±0.3 between runs.
        # --csv: "SET","rps","avg","min","p50","p95","p99","max"
        redis-benchmark -p "$port" -q -t set,get -n $((REQUESTS * pipeline)) -c 50 -P "$pipeline" --csv |
            awk -F'","' -v fl="$flavour" -v rt="$runtime" -v label="$label" '
                NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $7); print "redis-benchmark", $1 label, fl, rt, $2, $7 }' \
                >>"$results"
    done
    stop_server
}

for flavour in $FLAVOURS; do
    for round in $(seq "$ROUNDS"); do
        # Alternate which runtime goes first, so neither always runs on a warmer machine.
        if ((round % 2)); then order="tokio asincrono"; else order="asincrono tokio"; fi
        for runtime in $order; do
            echo "round $round/$ROUNDS: $runtime ($flavour)" >&2
            measure "$runtime" "$flavour"
        done
    done
done

# The table: medians over the rounds, per tool, workload and flavour.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '\n%-16s %-12s %-15s %12s %12s %7s %9s %9s\n' \
    tool workload flavour "tokio req/s" "asinc req/s" ratio "tokio p99" "asinc p99"
awk '{ print $1, $2, $3 }' "$results" | awk '!seen[$0]++' | while read -r tool workload flavour; do
    pick() { awk -v t="$tool" -v w="$workload" -v f="$flavour" -v r="$1" -v c="$2" \
        '$1 == t && $2 == w && $3 == f && $4 == r { print $c }' "$results" | median; }
    tokio_rps=$(pick tokio 5)
    asincrono_rps=$(pick asincrono 5)
    tokio_p99=$(pick tokio 6)
    asincrono_p99=$(pick asincrono 6)
    ratio=$(awk -v a="$asincrono_rps" -v t="$tokio_rps" 'BEGIN { printf "%.2f", (t > 0 ? a / t : 0) }')
    printf '%-16s %-12s %-15s %12.0f %12.0f %7s %7.2fms %7.2fms\n' \
        "$tool" "${workload//_/ }" "$flavour" "$tokio_rps" "$asincrono_rps" "$ratio" "$tokio_p99" "$asincrono_p99"
done
echo "(medians of $ROUNDS rounds; ratio = asincrono ÷ tokio req/s, above 1.0 asincrono served more; p99 in ms)"
