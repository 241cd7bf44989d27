#!/usr/bin/env bash
# The light path against the production path, side by side, on an upstream that costs nothing: nginx
# answering every chat completion with a fixed JSON answer, or a fixed 11-event SSE stream.
#
#   bash Benchmarks/paths.sh [--seconds N] [--concurrency C] [--binary PATH]
#
# For each of JSON and stream, one `model-service serve` (release) points OPENAI_BASE_URL at nginx, and wrk
# (-t1, C connections, default 32) measures, in alternation, the light path (the admin token and the
# environment key OPENAI_API_KEY, a model without a limit) and the production path (a user token, that user's stored encrypted key, a
# budget on the user and a per-minute limit: Benchmarks/lib/production-path.sh). Prints requests per second
# for each, and production / light.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_PER_RUN=10 CONCURRENCY=32 BINARY=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --concurrency) CONCURRENCY=$2; shift ;;
    --binary) BINARY=$(realpath "$2"); shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
command -v wrk >/dev/null && command -v nginx >/dev/null || apt-get install -y wrk nginx >/dev/null
if [[ -z $BINARY ]]; then
  swift build -c release --scratch-path .build-release --product model-service 2>&1 | tail -n 1 >&2
  BINARY=$(swift build -c release --scratch-path .build-release --show-bin-path)/model-service
fi
source "$ROOT/Benchmarks/lib/production-path.sh"
TMP=$(mktemp -d /tmp/model-service-paths.XXXXXX)
PIDS=()
cleanup() { set +e; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [[ -n ${KEEP_TMP:-} ]] || rm -rf "$TMP"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }

# The upstream: a fixed answer, and a fixed stream of 10 content chunks and the last with the usage, then [DONE].
NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx/logs" "$TMP/www"
chmod 755 "$TMP" "$TMP/www"  # nginx workers run as nobody when started as root
python3 - "$TMP/www" <<'EOF'
import json, sys
www = sys.argv[1]
answer = {"id": "chatcmpl-n", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from nginx, a fixed answer."}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}}
open(f"{www}/answer.json", "w").write(json.dumps(answer))
events = []
for i in range(10):
    delta = {"role": "assistant", "content": "word "} if i == 0 else {"content": "word "}
    events.append({"id": "chatcmpl-n", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-mini",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
events.append({"id": "chatcmpl-n", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-mini",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 12, "completion_tokens": 10, "total_tokens": 22}})
open(f"{www}/stream.sse", "w").write("".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n")
EOF
cat > "$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /json/v1/chat/completions { default_type application/json; error_page 405 =200 \$uri; alias $TMP/www/answer.json; }
    location /sse/v1/chat/completions { default_type text/event-stream; error_page 405 =200 \$uri; alias $TMP/www/stream.sse; }
  }
}
EOF
nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -g 'daemon off;' &
PIDS+=($!)
sleep 0.5

run_wrk() {  # url token body-file -> requests per second
  BENCH_BODY=$3 BENCH_TOKEN=$2 BENCH_OUT=$TMP/out.json wrk -t1 -c"$CONCURRENCY" -d"${SECONDS_PER_RUN}s" --timeout 5s \
    -s "$ROOT/Benchmarks/lib/chat.lua" "$1" >/dev/null
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); e=s["errors"]; bad=e["status"]+e["timeout"]+e["connect"]+e["read"]; print("%.0f %d" % (s["requests"]/(s["duration_us"]/1e6), bad))' "$TMP/out.json"
}

ADMIN=bench-admin-token-0123456789abcdef
for mode in json stream; do
  PORT=$(free_port)
  path=$([[ $mode == json ]] && echo json || echo sse)
  rm -rf "$TMP/data"; mkdir -p "$TMP/data"
  env HOST=127.0.0.1 PORT="$PORT" DATA_DIR="$TMP/data" ADMIN_TOKEN=$ADMIN LOG_LEVEL=warning SEED_ON_START=false \
    ENCRYPTION_SECRET=bench-encryption-secret-0123456789abcdef ENCRYPTION_KDF_COST=fast-for-tests \
    OPENAI_BASE_URL="http://127.0.0.1:$NGINX_PORT/$path/v1" OPENAI_API_KEY=sk-bench-env-0123456789abcdef \
    "$BINARY" serve > "$TMP/serve-$mode.log" 2>&1 &
  SERVE=$!
  PIDS+=($SERVE)
  wait_http "http://127.0.0.1:$PORT/api/health"
  setup_production_path "http://127.0.0.1:$PORT" $ADMIN "$TMP"
  # The light path's model: the same model without the per-minute limit.
  curl -sf -X POST "http://127.0.0.1:$PORT/api/models" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{"name":"bench/light","provider":"openai","modelId":"fake-echo","maxTokens":64,"inputCostPer1kTokens":0.001,"outputCostPer1kTokens":0.002}' >/dev/null
  stream=$([[ $mode == stream ]] && echo true || echo false)
  for model in echo light; do
    printf '{"model":"bench/%s","stream":%s,"max_tokens":64,"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Hello there"}]}' \
      "$model" "$stream" > "$TMP/body-$model.json"
  done
  URL="http://127.0.0.1:$PORT/v1/chat/completions"
  # Warm-up, then light and production in turn, twice.
  run_wrk "$URL" $ADMIN "$TMP/body-light.json" >/dev/null
  for round in 1 2; do
    light=$(run_wrk "$URL" $ADMIN "$TMP/body-light.json")
    production=$(run_wrk "$URL" "$(cat "$TMP/user-token")" "$TMP/body-echo.json")
    python3 -c 'import sys; l, le = map(int, sys.argv[2].split()); p, pe = map(int, sys.argv[3].split()); print(f"{sys.argv[1]:6} round {sys.argv[4]}: light {l:>6} req/s  production {p:>6} req/s  production/light {p/l:.2f}  (errors {le}, {pe})")' \
      "$mode" "$light" "$production" "$round"
  done
  kill $SERVE; wait $SERVE 2>/dev/null || true
done
