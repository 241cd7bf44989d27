#!/usr/bin/env bash
# Profiles the gateway's hot path, on the production path (user token, stored user key, budget,
# per-minute limit, usage and metrics: Benchmarks/lib/production-path.sh).
#
#   bash Benchmarks/profile.sh [--requests N] [--mode json|stream] [--tool perf|callgrind] [--target gateway|floor]
#                              [--light] [--binary PATH] [--name NAME]
#
# --light profiles round one's lighter path instead (admin token, stored shared key, no budget or limit);
# --binary profiles another model-service release binary (an earlier commit's, with the synchronous entry
# point) and --name names the output files (callgrind-NAME.txt; default the mode, plus -light).
#
# --target floor profiles FloorProxy instead (the gateway's HTTP server, client and executor relaying with
# nothing else: the libraries' floor); its output files are named callgrind-floor-<mode>.txt and so on.
# Starts the release fake upstream and `model-service serve` on loopback and warms up with 100 requests.
# perf (default): attaches `perf record -e cpu-clock -g` (frame-pointer call graphs) to the service, sends
# N requests (default 4,000) at concurrency 4 with wrk, and writes the top inclusive and self costs
# (demangled) to Benchmarks/results/profile-<mode>.txt.
# callgrind: runs the service under `valgrind --tool=callgrind` (debug info stripped: valgrind 3.19 cannot
# read Swift 6.3's DWARF), collects only while N requests (default 1,000) run, and writes instructions per
# request and the top inclusive and self functions to Benchmarks/results/callgrind-<mode>.txt. Counted
# instructions do not depend on the machine's noise, so two runs compare change by change.
# (valgrind 3.19 crashes on Swift's `async` main, hence the synchronous entry point in main.swift.)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
REQUESTS="" MODE=json FREQ=4999 TOOL=perf TARGET=gateway LIGHT=0 BINARY="" NAME=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --requests) REQUESTS=$2; shift ;;
    --mode) MODE=$2; shift ;;
    --tool) TOOL=$2; shift ;;
    --target) TARGET=$2; shift ;;
    --light) LIGHT=1 ;;
    --binary) BINARY=$(realpath "$2"); shift ;;
    --name) NAME=$2; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ $TOOL == callgrind ]]; then
  REQUESTS=${REQUESTS:-1000}
  command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
else
  REQUESTS=${REQUESTS:-4000}
  command -v perf >/dev/null || apt-get install -y linux-perf >/dev/null
fi
SCRATCH=${SCRATCH_PATH:-.build-release}
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)
[[ -x $BIN/model-service ]] || swift build -c release --scratch-path "$SCRATCH" --product model-service
TMP=$(mktemp -d /tmp/model-service-profile.XXXXXX)
PIDS=()
cleanup() { set +e; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 1; for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # port [pid]
  for _ in $(seq 1 1200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    [[ -z ${2:-} ]] || kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

FP_PORT=$(free_port) GW_PORT=$(free_port)
"$BIN/model-service" fake-providers --port "$FP_PORT" > "$TMP/fake.log" 2>&1 &
PIDS+=("$!"); wait_port "$FP_PORT"
ADMIN_TOKEN="bench-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
(
  cd "$TMP"
  export PORT=$GW_PORT HOST=127.0.0.1 DATABASE_URL="sqlite://$TMP/bench.sqlite" DATA_DIR="$TMP/data" \
    ADMIN_TOKEN="$ADMIN_TOKEN" SEED_ON_START=false LOG_LEVEL=warning \
    ENCRYPTION_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(36))')" \
    OPENAI_BASE_URL="http://127.0.0.1:$FP_PORT/openai/v1" OPENAI_API_KEY="sk-bench-0123456789"
  PROGRAM=("${BINARY:-$BIN/model-service}" serve)
  [[ $TARGET == floor ]] && PROGRAM=("$BIN/FloorProxy" "$GW_PORT" "http://127.0.0.1:$FP_PORT/openai/v1/chat/completions")
  if [[ $TOOL == callgrind ]]; then
    objcopy --strip-debug "${PROGRAM[0]}" "$TMP/profiled"
    exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$TMP/callgrind.out" "$TMP/profiled" "${PROGRAM[@]:1}"
  fi
  exec "${PROGRAM[@]}"
) > "$TMP/gateway.log" 2>&1 &
GW_PID=$!; PIDS+=("$GW_PID")
wait_port "$GW_PORT" "$GW_PID" || { cat "$TMP/gateway.log"; exit 1; }
MODEL=fake-echo
if [[ $TARGET == gateway ]]; then
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$GW_PORT/api/health" >/dev/null && break; sleep 0.2; done
  source "$ROOT/Benchmarks/lib/production-path.sh"
  if [[ $LIGHT == 1 ]]; then
    setup_light_path "http://127.0.0.1:$GW_PORT" "$ADMIN_TOKEN" "$TMP" || { cat "$TMP/gateway.log"; exit 1; }
    echo "$ADMIN_TOKEN" > "$TMP/user-token"
  else
    setup_production_path "http://127.0.0.1:$GW_PORT" "$ADMIN_TOKEN" "$TMP" || { cat "$TMP/gateway.log"; exit 1; }
  fi
  MODEL=bench/echo
else
  echo unused > "$TMP/user-token"
fi
MESSAGES='"messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Say hello to the benchmark in a few short words please, nothing more."}],"max_tokens":64'
if [[ $MODE == stream ]]; then
  echo "{\"model\":\"$MODEL\",$MESSAGES,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" > "$TMP/body"
else
  echo "{\"model\":\"$MODEL\",$MESSAGES}" > "$TMP/body"
fi
URL="http://127.0.0.1:$GW_PORT/v1/chat/completions"
export BENCH_BODY="$TMP/body" BENCH_TOKEN="$(cat "$TMP/user-token")"
BENCH_COUNT=100 timeout 60 wrk -t1 -c4 -d3s --timeout 20s -s "$ROOT/Benchmarks/lib/count.lua" "$URL" > /dev/null
sleep 0.5
if [[ $TOOL == callgrind ]]; then
  export HOST=127.0.0.1  # valgrind names its control pipe after $HOST, which the service had set
  callgrind_control -i on "$GW_PID" > /dev/null
  timeout 1800 python3 "$ROOT/Benchmarks/lib/send.py" --url "$URL" --body "$TMP/body" --token "$BENCH_TOKEN" --n "$REQUESTS" --c 4 > "$TMP/send.txt"
  sleep 0.3  # the usage batch flush (every 200 ms) falls inside the collected window
  callgrind_control -i off "$GW_PID" > /dev/null
  callgrind_control -d "$GW_PID" > /dev/null
  sleep 1
  SENT=$REQUESTS
  [[ -n $NAME ]] || NAME=$([[ $TARGET == floor ]] && echo "floor-$MODE" || echo "$MODE$([[ $LIGHT == 1 ]] && echo -light)")
  OUT="$ROOT/Benchmarks/results/callgrind-$NAME.txt"
  DUMP=$(ls -t "$TMP"/callgrind.out.* | head -1)
  set +o pipefail  # `head` ends the annotate pipes early
  TOTAL=$(callgrind_annotate "$DUMP" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1; exit}')
  {
    echo "callgrind (valgrind $(valgrind --version | cut -d- -f2)) of $([[ $TARGET == floor ]] && echo FloorProxy || echo "model-service serve") (release, debug info stripped), $MODE,"
    echo "$SENT requests at c=4 $([[ $TARGET == floor ]] && echo "relayed, nothing else" || { [[ $LIGHT == 1 ]] && echo "on the light path" || echo "on the production path"; }) (statuses $(cat "$TMP/send.txt")); $TOTAL instructions in all, $((TOTAL / SENT)) per request"
    echo
    echo "== inclusive, >= 1% =="
    callgrind_annotate --inclusive=yes --threshold=99 "$DUMP" 2>/dev/null | sed -n '/^Ir/,$p' | awk -v t="$TOTAL" 'NR>2 {gsub(",","",$1); if ($1+0 >= t/100) print}' | head -90 | swift demangle --simplified | cut -c1-220
    echo
    echo "== self, >= 0.5% =="
    callgrind_annotate --threshold=99 "$DUMP" 2>/dev/null | sed -n '/^Ir/,$p' | awk -v t="$TOTAL" 'NR>2 {gsub(",","",$1); if ($1+0 >= t/200) print}' | head -70 | swift demangle --simplified | cut -c1-220
  } > "$OUT"
  cp "$DUMP" "$ROOT/Benchmarks/results/callgrind-$NAME.out" 2>/dev/null || true
  echo "requests profiled: $SENT; wrote $OUT (raw: Benchmarks/results/callgrind-$NAME.out, for callgrind_annotate or kcachegrind)"
  exit 0
fi
sleep 0.5
perf record -e cpu-clock -F "$FREQ" -g -p "$GW_PID" -o "$TMP/perf.data" > "$TMP/perf.log" 2>&1 &
PERF_PID=$!; PIDS+=("$PERF_PID")
sleep 0.5
START=$(date +%s.%N)
BENCH_COUNT=$REQUESTS timeout 300 wrk -t1 -c4 -d15s --timeout 10s -s "$ROOT/Benchmarks/lib/count.lua" "$URL" > "$TMP/wrk.txt"
END=$(date +%s.%N)
sleep 0.3  # the usage batch flush (every 200 ms) falls inside the profiled window
kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true
SENT=$(awk '/requests in/{print $1}' "$TMP/wrk.txt")
OUT="$ROOT/Benchmarks/results/profile-$MODE.txt"
{
  echo "perf (cpu-clock, ${FREQ} Hz, frame-pointer call graphs) of model-service serve (release), $MODE,"
  echo "$SENT requests at c=4 in $(python3 -c "print(round($END-$START,2))") s; samples: $(perf report -i "$TMP/perf.data" --stdio 2>/dev/null | awk '/^# Samples/{print $3; exit}')"
  echo
  echo "== inclusive (children) by symbol, >= 1.5% =="
  perf report -i "$TMP/perf.data" --children --sort symbol --stdio -g none --percent-limit 1.5 2>/dev/null | grep -v '^#' | grep -v '^$' | swift demangle --simplified | cut -c1-220
  echo
  echo "== self by symbol, >= 0.7% =="
  perf report -i "$TMP/perf.data" --no-children --sort symbol --stdio -g none --percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$' | swift demangle --simplified | cut -c1-220
  echo
  echo "== self by shared object =="
  perf report -i "$TMP/perf.data" --no-children --sort dso --stdio -g none --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$'
} > "$OUT"
echo "requests profiled: $SENT; wrote $OUT; raw data in $TMP/perf.data (kept)"
trap - EXIT
cleanup
