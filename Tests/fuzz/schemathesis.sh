#!/usr/bin/env bash
# Fuzzes the real `model-service serve` with schemathesis from /openapi.json, as an admin, with the
# fake providers as upstreams: any 5xx fails the run, and /api/health must still answer 200 after it.
# Usage: Tests/fuzz/schemathesis.sh   (FUZZ_EXAMPLES and FUZZ_MAX_SECONDS bound the run)
set -euo pipefail
cd "$(dirname "$0")/../.."

EXAMPLES="${FUZZ_EXAMPLES:-25}"
MAX_SECONDS="${FUZZ_MAX_SECONDS:-300}"
ADMIN_TOKEN="fuzz-admin-token-0123456789abcdef"
WORK="$(mktemp -d /tmp/ms-fuzz.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${FUZZ_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v schemathesis >/dev/null 2>&1; then
    echo "fuzz: schemathesis is not installed (pip install schemathesis)" >&2
    exit 1
fi

swift build --product model-service >/dev/null
BIN="$(swift build --show-bin-path)/model-service"

# The fake upstreams on a free port; their first line names every provider's base URL.
"$BIN" fake-providers --port 0 >"$WORK/fakes.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    grep -q "listening on" "$WORK/fakes.log" && break
    sleep 0.1
done
URLS="$(grep -m1 "listening on" "$WORK/fakes.log" | cut -d' ' -f5-)"
[ -n "$URLS" ] || { echo "fuzz: fake providers did not start" >&2; cat "$WORK/fakes.log" >&2; exit 1; }

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
# shellcheck disable=SC2086
env $URLS \
    HOST=127.0.0.1 PORT="$PORT" DATA_DIR="$WORK/data" ADMIN_TOKEN="$ADMIN_TOKEN" \
    INTERNAL_SECRET="fuzz-internal-secret-0123456789abcdef" ENCRYPTION_SECRET="fuzz-encryption-secret-0123456789abcdef" \
    ENCRYPTION_KDF_COST=fast-for-tests LOG_LEVEL=warning \
    OPENAI_API_KEY=sk-fuzz-openai ANTHROPIC_API_KEY=sk-fuzz-anthropic GOOGLE_API_KEY=fuzz-google \
    AZURE_OPENAI_API_KEY=fuzz-azure XAI_API_KEY=fuzz-xai DEEPSEEK_API_KEY=fuzz-deepseek AWS_BEARER_TOKEN_BEDROCK=fuzz-bedrock \
    "$BIN" serve >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 600); do
    curl -fsS "$BASE/api/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$BASE/api/health" >/dev/null || { echo "fuzz: the service did not start" >&2; cat "$WORK/serve.log" >&2; exit 1; }

# One schemathesis run: the JUnit report at $1, any further options after it.
fuzz() {
    local report="$1"
    shift
    schemathesis run "$BASE/openapi.json" --url "$BASE" -H "Authorization: Bearer $ADMIN_TOKEN" \
        -c not_a_server_error -n "$EXAMPLES" --max-time "$MAX_SECONDS" --request-timeout 30 \
        --report junit --report-junit-path "$report" "$@"
}

status=0
fuzz "$WORK/junit.xml" || status=$?
# A failed run whose only errors are inside Hypothesis's own engine fuzzes those operations again (up to twice,
# each with a fresh seed) rather than failing on the fuzzer's fault; a 5xx or any other error still fails.
if [ "$status" -ne 0 ] && [ -f "$WORK/junit.xml" ]; then
    if rerun="$(python3 Tests/fuzz/junit_verdict.py "$WORK/junit.xml")" && [ -n "$rerun" ]; then
        status=0
        while IFS= read -r operation; do
            echo "fuzz: the fuzzer's engine failed on $operation (not the service); fuzzing it again"
            passed=no
            for attempt in 1 2; do
                operation_status=0
                fuzz "$WORK/junit-rerun-$attempt.xml" --include-name "$operation" || operation_status=$?
                [ "$operation_status" -eq 0 ] && { passed=yes; break; }
                again="$(python3 Tests/fuzz/junit_verdict.py "$WORK/junit-rerun-$attempt.xml")" || break
                [ -n "$again" ] || break
            done
            [ "$passed" = yes ] || status=1
        done <<<"$rerun"
    fi
fi

health="$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/health" || true)"
if [ "$health" != "200" ]; then
    echo "fuzz: /api/health answered $health after the run" >&2
    status=1
fi
if grep -q "unhandled error" "$WORK/serve.log"; then
    echo "fuzz: the service logged unhandled errors:" >&2
    grep "unhandled error" "$WORK/serve.log" | head -20 >&2
fi
[ "$status" -eq 0 ] && echo "fuzz: no server error in $EXAMPLES examples per operation; health 200"
exit "$status"
