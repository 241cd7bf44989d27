#!/usr/bin/env bash
# model-service benchmark harness: direct vs nginx vs gateway, one run, side by side.
#
#   bash Benchmarks/run.sh            # 10 s per scenario (about 4 minutes in all, plus the build)
#   bash Benchmarks/run.sh --quick    # 3 s per scenario
#
# Options: --quick, --pin (wrk on CPU 0, servers on CPU 1), --no-build, --no-hotpath,
#          --no-litellm (skip the LiteLLM column), --floor (add FloorProxy: the same server, client and
#          executor as the gateway relaying with nothing else, the libraries' floor),
#          --duration N (seconds per measured run), --keep (keep the temp dir),
#          --light (the gateway on round one's lighter path: admin token, stored shared key, no
#          budget or limit), --baseline BIN (add a column for another model-service binary, for
#          example an earlier commit's release build, on the light path: same machine, same run;
#          --baseline-first measures it before the gateway in each scenario), --rounds N (with --baseline:
#          N more rounds of the c=32 scenarios, gateway and baseline back to back, the order swapped every
#          round; the per-round ratios and their median go to $RESULTS_DIR/rounds.md).
# LiteLLM (the proxy users compare against) runs from a venv the harness makes in .build-litellm-venv
# (`pip install 'litellm[proxy]'`); when it cannot be installed its column is left out, with a line saying so.
# Env:     SCRATCH_PATH (default .build-release), RESULTS_DIR (default Benchmarks/results).
#
# Everything listens on 127.0.0.1 only; every load is bounded in time (wrk -d, plus `timeout`).
# Writes $RESULTS_DIR/latest.json and latest.md; prints the table.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

QUICK=0 PIN=0 BUILD=1 HOTPATH=1 LITELLM=1 FLOOR=0 KEEP=0 DURATION="" LIGHT=0 BASELINE_BIN="" BASELINE_FIRST=0 ROUNDS=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1 ;;
    --pin) PIN=1 ;;
    --no-build) BUILD=0 ;;
    --no-hotpath) HOTPATH=0 ;;
    --no-litellm) LITELLM=0 ;;
    --floor) FLOOR=1 ;;
    --keep) KEEP=1 ;;
    --duration) DURATION=$2; shift ;;
    --light) LIGHT=1 ;;
    --baseline) BASELINE_BIN=$(realpath "$2"); shift ;;
    --baseline-first) BASELINE_FIRST=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ $QUICK == 1 ]]; then
  DURATION=${DURATION:-3} WARMUP=1 TTFC_N=100 TTFC_WARMUP=10 HOTPATH_SCALE=0.2
else
  DURATION=${DURATION:-10} WARMUP=3 TTFC_N=300 TTFC_WARMUP=30 HOTPATH_SCALE=1
fi
SCRATCH=${SCRATCH_PATH:-.build-release}
RESULTS=${RESULTS_DIR:-$ROOT/Benchmarks/results}
mkdir -p "$RESULTS"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- tools
need_install=()
command -v wrk >/dev/null || need_install+=(wrk)
NGINX=$(command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true)
[[ -n $NGINX ]] || need_install+=(nginx-light)
if [[ ${#need_install[@]} -gt 0 ]]; then
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO=sudo
  log "installing ${need_install[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y "${need_install[@]}" >/dev/null 2>&1 || {
    $SUDO apt-get update >/dev/null 2>&1
    $SUDO apt-get install -y "${need_install[@]}" >/dev/null 2>&1 || $SUDO apt-get install -y wrk nginx >/dev/null
  }
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }

# ---------------------------------------------------------------- build
if [[ $BUILD == 1 ]]; then
  log "building release (scratch path $SCRATCH)"
  swift build -c release --scratch-path "$SCRATCH" --product model-service 2>&1 | tail -n 3 >&2
  [[ $HOTPATH == 0 ]] || swift build -c release --scratch-path "$SCRATCH" --product HotPathBench 2>&1 | tail -n 3 >&2
  [[ $FLOOR == 0 ]] || swift build -c release --scratch-path "$SCRATCH" --product FloorProxy 2>&1 | tail -n 3 >&2
fi
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)
[[ -x $BIN/model-service ]] || { echo "no release binary at $BIN/model-service (run without --no-build)" >&2; exit 1; }

# ---------------------------------------------------------------- processes and cleanup
TMP=$(mktemp -d /tmp/model-service-bench.XXXXXX)
mkdir -p "$TMP/runs"
PIDS=()
cleanup() {
  local status=$?
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.5
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [[ $KEEP == 1 || $status != 0 ]]; then log "temp dir kept: $TMP"; else rm -rf "$TMP"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SERVER_CPU=() WRK_CPU=()
if [[ $PIN == 1 ]]; then SERVER_CPU=(taskset -c 1) WRK_CPU=(taskset -c 0); fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  local port=$1 pid=$2
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited before listening on $port" >&2; return 1; }
    sleep 0.1
  done
  echo "nothing listens on $port after 30 s" >&2; return 1
}
cpu_ticks() {  # utime+stime of the given pids, in clock ticks
  local total=0 pid fields
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    fields=$(sed 's/.*) //' "/proc/$pid/stat")
    set -- $fields
    total=$((total + ${12} + ${13}))
  done
  echo $total
}
meta() { echo "$1=$2" >> "$TMP/meta.env"; }

meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta nproc "$(nproc)"
meta cpu_model "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
meta commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
meta dirty "$(git status --porcelain -- Sources Package.swift 2>/dev/null | wc -l)"
meta duration "$DURATION"
meta warmup "$WARMUP"
meta pinned "$PIN"
meta wrk_version "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
meta nginx_version "$("$NGINX" -v 2>&1 | cut -d/ -f2)"

# fake upstream
FP_PORT=$(free_port)
"${SERVER_CPU[@]}" "$BIN/model-service" fake-providers --port "$FP_PORT" > "$TMP/fake.log" 2>&1 &
FP_PID=$!; PIDS+=("$FP_PID")
wait_port "$FP_PORT" "$FP_PID"
log "fake providers on $FP_PORT (pid $FP_PID)"

# gateway
ADMIN_TOKEN="bench-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
start_gateway() {  # binary name: starts model-service serve on its own SQLite file; sets STARTED_PORT/STARTED_PID
  local binary=$1 name=$2 port
  port=$(free_port)
  mkdir -p "$TMP/data-$name"
  (
    cd "$TMP"
    export PORT=$port HOST=127.0.0.1 DATABASE_URL="sqlite://$TMP/$name.sqlite" DATA_DIR="$TMP/data-$name" \
      ADMIN_TOKEN="$ADMIN_TOKEN" SEED_ON_START=false LOG_LEVEL=warning \
      ENCRYPTION_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(36))')" \
      OPENAI_BASE_URL="http://127.0.0.1:$FP_PORT/openai/v1" OPENAI_API_KEY="sk-bench-0123456789"
    exec "${SERVER_CPU[@]}" "$binary" serve
  ) > "$TMP/$name.log" 2>&1 &
  STARTED_PID=$!; STARTED_PORT=$port; PIDS+=("$STARTED_PID")
  wait_port "$port" "$STARTED_PID"
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
}
source "$ROOT/Benchmarks/lib/production-path.sh"
start_gateway "$BIN/model-service" gateway
GW_PORT=$STARTED_PORT GW_PID=$STARTED_PID
log "model-service on $GW_PORT (pid $GW_PID)"
if [[ $LIGHT == 1 ]]; then
  setup_light_path "http://127.0.0.1:$GW_PORT" "$ADMIN_TOKEN" "$TMP" || { cat "$TMP/gateway.log" >&2; exit 1; }
  USER_TOKEN=$ADMIN_TOKEN
else
  setup_production_path "http://127.0.0.1:$GW_PORT" "$ADMIN_TOKEN" "$TMP" || { cat "$TMP/gateway.log" >&2; exit 1; }
  USER_TOKEN=$(cat "$TMP/user-token")
fi
meta path "$([[ $LIGHT == 1 ]] && echo light || echo production)"

# nginx: plain proxy_pass to the same upstream, keep-alive upstream connections, 2 workers
NG_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat > "$TMP/nginx/nginx.conf" <<EOF
worker_processes 2;
$( [[ $(id -u) == 0 ]] && echo "user root;" )
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  upstream fake { server 127.0.0.1:$FP_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NG_PORT;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
"${SERVER_CPU[@]}" "$NGINX" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" > "$TMP/nginx/stdout.log" 2>&1 &
NG_PID=$!; PIDS+=("$NG_PID")
wait_port "$NG_PORT" "$NG_PID"
log "nginx on $NG_PORT (pid $NG_PID)"

TARGETS=(direct nginx)
# FloorProxy: the gateway's libraries relaying and nothing else (optional column)
if [[ $FLOOR == 1 ]]; then
  [[ -x $BIN/FloorProxy ]] || { echo "no FloorProxy at $BIN (run without --no-build)" >&2; exit 1; }
  FL_PORT=$(free_port)
  "${SERVER_CPU[@]}" "$BIN/FloorProxy" "$FL_PORT" "http://127.0.0.1:$FP_PORT/openai/v1/chat/completions" > "$TMP/floor.log" 2>&1 &
  FL_PID=$!; PIDS+=("$FL_PID")
  wait_port "$FL_PORT" "$FL_PID"
  TARGETS+=(floor)
  log "floor proxy on $FL_PORT (pid $FL_PID)"
fi
TARGETS+=(gateway)
# Another model-service binary (an earlier build) on the light path, measured in the same run
if [[ -n $BASELINE_BIN ]]; then
  [[ -x $BASELINE_BIN ]] || { echo "no executable at $BASELINE_BIN" >&2; exit 1; }
  mkdir -p "$TMP/baseline-setup"
  start_gateway "$BASELINE_BIN" baseline
  BL_PORT=$STARTED_PORT BL_PID=$STARTED_PID
  setup_light_path "http://127.0.0.1:$BL_PORT" "$ADMIN_TOKEN" "$TMP/baseline-setup" || { cat "$TMP/baseline.log" >&2; exit 1; }
  # Measured next to the gateway; --baseline-first swaps the two, to see any effect of the order.
  if [[ $BASELINE_FIRST == 1 ]]; then TARGETS=("${TARGETS[@]/gateway/baseline}" gateway); else TARGETS+=(baseline); fi
  meta baseline_bin "$BASELINE_BIN"
  log "baseline model-service on $BL_PORT (pid $BL_PID)"
fi

# LiteLLM proxy: the same upstream and model, from its own venv (optional column)
if [[ $LITELLM == 1 ]]; then
  VENV="$ROOT/.build-litellm-venv"
  if [[ ! -x $VENV/bin/litellm ]]; then
    log "installing litellm[proxy] into $VENV"
    { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q 'litellm[proxy]'; } > "$TMP/litellm-install.log" 2>&1 || true
  fi
  if [[ -x $VENV/bin/litellm ]]; then
    LL_PORT=$(free_port)
    LL_KEY="sk-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
    cat > "$TMP/litellm.yaml" <<EOF
general_settings:
  master_key: $LL_KEY
model_list:
  - model_name: bench/echo
    litellm_params:
      model: openai/fake-echo
      api_base: http://127.0.0.1:$FP_PORT/openai/v1
      api_key: sk-bench-0123456789
EOF
    (cd "$TMP" && LITELLM_LOCAL_MODEL_COST_MAP=True exec "${SERVER_CPU[@]}" "$VENV/bin/litellm" --config "$TMP/litellm.yaml" --host 127.0.0.1 --port "$LL_PORT") > "$TMP/litellm.log" 2>&1 &
    LL_PID=$!; PIDS+=("$LL_PID")
    for _ in $(seq 1 1800); do  # its start-up takes seconds to minutes
      curl -sf "http://127.0.0.1:$LL_PORT/health/liveliness" >/dev/null 2>&1 && break
      kill -0 "$LL_PID" 2>/dev/null || break
      sleep 0.1
    done
    if curl -sf "http://127.0.0.1:$LL_PORT/health/liveliness" >/dev/null 2>&1; then
      TARGETS+=(litellm)
      meta litellm_version "$("$VENV/bin/pip" show litellm 2>/dev/null | awk '/^Version/{print $2}')"
      log "litellm on $LL_PORT (pid $LL_PID)"
    else
      log "litellm did not start; its column is left out (log: $TMP/litellm.log)"; KEEP=1
    fi
  else
    log "litellm could not be installed; its column is left out (log: $TMP/litellm-install.log)"
  fi
fi

# request bodies: the same messages and limits everywhere, only the model name differs
MESSAGES='"messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Say hello to the benchmark in a few short words please, nothing more."}],"max_tokens":64'
STREAM='"stream":true,"stream_options":{"include_usage":true}'
echo "{\"model\":\"fake-echo\",$MESSAGES}" > "$TMP/direct-json.body"
echo "{\"model\":\"fake-echo\",$MESSAGES,$STREAM}" > "$TMP/direct-stream.body"
echo "{\"model\":\"bench/echo\",$MESSAGES}" > "$TMP/gateway-json.body"
echo "{\"model\":\"bench/echo\",$MESSAGES,$STREAM}" > "$TMP/gateway-stream.body"
cp "$TMP/direct-json.body" "$TMP/nginx-json.body"; cp "$TMP/direct-stream.body" "$TMP/nginx-stream.body"
cp "$TMP/gateway-json.body" "$TMP/litellm-json.body"; cp "$TMP/gateway-stream.body" "$TMP/litellm-stream.body"
cp "$TMP/gateway-json.body" "$TMP/baseline-json.body"; cp "$TMP/gateway-stream.body" "$TMP/baseline-stream.body"
cp "$TMP/direct-json.body" "$TMP/floor-json.body"; cp "$TMP/direct-stream.body" "$TMP/floor-stream.body"

declare -A URL TOKEN
URL[direct]="http://127.0.0.1:$FP_PORT/openai/v1/chat/completions"; TOKEN[direct]="sk-bench-0123456789"
URL[nginx]="http://127.0.0.1:$NG_PORT/openai/v1/chat/completions";  TOKEN[nginx]="sk-bench-0123456789"
URL[gateway]="http://127.0.0.1:$GW_PORT/v1/chat/completions";       TOKEN[gateway]="$USER_TOKEN"
if [[ -n ${FL_PORT:-} ]]; then URL[floor]="http://127.0.0.1:$FL_PORT/v1/chat/completions"; TOKEN[floor]="unused"; fi
if [[ -n ${BL_PORT:-} ]]; then URL[baseline]="http://127.0.0.1:$BL_PORT/v1/chat/completions"; TOKEN[baseline]="$ADMIN_TOKEN"; fi
if [[ -n ${LL_PORT:-} ]]; then URL[litellm]="http://127.0.0.1:$LL_PORT/v1/chat/completions"; TOKEN[litellm]="$LL_KEY"; fi

for target in "${TARGETS[@]}"; do
  for mode in json stream; do
    code=$(curl -s -o "$TMP/check-$target-$mode.out" -w '%{http_code}' -X POST "${URL[$target]}" \
      -H "Authorization: Bearer ${TOKEN[$target]}" -H 'Content-Type: application/json' --data-binary "@$TMP/$target-$mode.body")
    [[ $code == 200 ]] || { echo "sanity check $target/$mode answered $code:" >&2; cat "$TMP/check-$target-$mode.out" >&2; exit 1; }
  done
done
GW_SENT_EXTRA=2  # the two sanity-check calls above
meta sse_events_per_stream "$(grep -c '^data:' "$TMP/check-gateway-stream.out")"
meta response_bytes_json "$(wc -c < "$TMP/check-gateway-json.out")"

# peak RSS of the gateway, sampled every 100 ms from now on (startup excluded; VmHWM covers it)
meta rss_idle_kb "$(awk '/VmRSS/{print $2}' "/proc/$GW_PID/status")"
(
  peak=0
  while kill -0 "$GW_PID" 2>/dev/null; do
    rss=0
    while read -r key value _; do [[ $key == VmRSS: ]] && rss=$value; done < "/proc/$GW_PID/status" 2>/dev/null || true
    if (( rss > peak )); then peak=$rss; echo "$peak" > "$TMP/rss_peak_kb"; fi
    sleep 0.1
  done
) &
PIDS+=("$!")

nginx_pids() { echo "$NG_PID" $(pgrep -P "$NG_PID" || true); }
pids_of() {
  case $1 in
    direct) echo "$FP_PID" ;;
    nginx) echo "$(nginx_pids) $FP_PID" ;;
    gateway) echo "$GW_PID $FP_PID" ;;
    litellm) echo "$LL_PID $FP_PID" ;;
    floor) echo "$FL_PID $FP_PID" ;;
    baseline) echo "$BL_PID $FP_PID" ;;
  esac
}

# ---------------------------------------------------------------- load
run_wrk() {  # target mode connections [name prefix]
  local target=$1 mode=$2 c=$3 name="${4:-}$1-$2-c$3"
  local -a env=(BENCH_BODY="$TMP/$target-$mode.body" BENCH_TOKEN="${TOKEN[$target]}")
  env "${env[@]}" BENCH_OUT="$TMP/runs/$name.warmup.json" timeout $((WARMUP + 20)) \
    "${WRK_CPU[@]}" wrk -t1 -c"$c" -d"${WARMUP}s" --timeout 5s -s "$ROOT/Benchmarks/lib/chat.lua" "${URL[$target]}" > /dev/null
  local -a server_pids=($(pids_of "$target"))
  local own_before up_before
  own_before=$(cpu_ticks "${server_pids[0]}" $( [[ $target == nginx ]] && pgrep -P "$NG_PID" ) $( [[ $target == litellm ]] && pgrep -P "$LL_PID" ))
  up_before=$(cpu_ticks "$FP_PID")
  env "${env[@]}" BENCH_OUT="$TMP/runs/$name.json" timeout $((DURATION + 30)) \
    "${WRK_CPU[@]}" wrk -t1 -c"$c" -d"${DURATION}s" --timeout 5s --latency -s "$ROOT/Benchmarks/lib/chat.lua" "${URL[$target]}" > "$TMP/runs/$name.txt"
  local own_after up_after
  own_after=$(cpu_ticks "${server_pids[0]}" $( [[ $target == nginx ]] && pgrep -P "$NG_PID" ) $( [[ $target == litellm ]] && pgrep -P "$LL_PID" ))
  up_after=$(cpu_ticks "$FP_PID")
  if [[ $target == direct ]]; then own_after=$own_before; fi
  echo "{\"proxy_ticks\":$((own_after - own_before)),\"upstream_ticks\":$((up_after - up_before)),\"clk_tck\":$(getconf CLK_TCK)}" > "$TMP/runs/$name.cpu.json"
  log "$(printf '%-8s %-6s c=%-3s' "$target" "$mode" "$c") $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); l=d['latency_us']; print(f\"{d['requests']/d['duration_us']*1e6:9.0f} req/s  p50 {l['p50']/1000:7.3f} ms  p99 {l['p99']/1000:7.3f} ms  non-2xx {d['errors']['status']}\")" "$TMP/runs/$name.json")"
}

log "load: ${DURATION}s per run after ${WARMUP}s warm-up; wrk -t1; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in json stream; do
  for c in 1 32; do
    for target in "${TARGETS[@]}"; do
      run_wrk "$target" "$mode" "$c"
    done
  done
done

if (( ROUNDS > 0 )) && [[ -n ${BL_PORT:-} ]]; then
  log "rounds: $ROUNDS more of the c=32 scenarios, gateway and baseline back to back, the order swapped each round"
  for round in $(seq 1 "$ROUNDS"); do
    order=(gateway baseline)
    (( round % 2 == 0 )) && order=(baseline gateway)
    for mode in json stream; do
      for target in "${order[@]}"; do run_wrk "$target" "$mode" 32 "round$round-"; done
    done
  done
  python3 "$ROOT/Benchmarks/lib/rounds.py" "$TMP/runs" "$ROUNDS" > "$RESULTS/rounds.md"
  cat "$RESULTS/rounds.md" >&2
fi

log "time to first chunk: $TTFC_N streamed requests each, one at a time"
for target in "${TARGETS[@]}"; do
  timeout 300 "${WRK_CPU[@]}" python3 "$ROOT/Benchmarks/lib/ttfc.py" --url "${URL[$target]}" --body "$TMP/$target-stream.body" \
    --token "${TOKEN[$target]}" --n "$TTFC_N" --warmup "$TTFC_WARMUP" --out "$TMP/runs/ttfc-$target.json" > /dev/null
done

# ---------------------------------------------------------------- usage records
sleep 1.5
meta rss_hwm_kb "$(awk '/VmHWM/{print $2}' "/proc/$GW_PID/status")"
meta rss_end_kb "$(awk '/VmRSS/{print $2}' "/proc/$GW_PID/status")"
meta rss_peak_load_kb "$(cat "$TMP/rss_peak_kb" 2>/dev/null || echo 0)"
meta gateway_sent_extra "$GW_SENT_EXTRA"
python3 - "$TMP/gateway.sqlite" > "$TMP/usage.json" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
total, ok, s499, other = db.execute(
    "select count(*), coalesce(sum(status = 200),0), coalesce(sum(status = 499),0), coalesce(sum(status not in (200, 499)),0) from usage_records").fetchone()
sources = dict(db.execute("select coalesce(key_source, 'none'), count(*) from usage_records group by 1").fetchall())
key_uses = db.execute("select coalesce(sum(usage_count), 0) from api_keys").fetchone()[0]
print(json.dumps({"records": total, "status200": ok, "status499": s499, "statusOther": other,
                  "keySources": sources, "storedKeyUsageCount": key_uses}))
EOF
curl -sf "http://127.0.0.1:$GW_PORT/api/usage" -H "Authorization: Bearer $ADMIN_TOKEN" > "$TMP/usage-api.json" || echo '{}' > "$TMP/usage-api.json"

# ---------------------------------------------------------------- hot path micro-benchmarks
if [[ $HOTPATH == 1 && -x $BIN/HotPathBench ]]; then
  log "hot path micro-benchmarks"
  (cd "$TMP" && timeout 600 "$BIN/HotPathBench" --scale "$HOTPATH_SCALE" --json "$TMP/hotpath.json") >&2
fi
meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

python3 "$ROOT/Benchmarks/lib/report.py" "$TMP" "$RESULTS"
