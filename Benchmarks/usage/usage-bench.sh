#!/usr/bin/env bash
# Usage reports at scale: N usage records (default 50 million over 90 days) in PostgreSQL or SQLite, then
# the times of the API's 30- and 90-day reports, of the console's usage page, and an export's memory.
#
#   bash Benchmarks/usage/usage-bench.sh postgres      # BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5433/bench_usage
#   bash Benchmarks/usage/usage-bench.sh sqlite        # a file in $WORK (default /tmp/usage-bench)
#
# Options: --rows N (default 50000000), --no-build, --keep (keep the database for another run),
#          --reuse (skip loading: measure the database a --keep run left), --runs N (per figure, default 7).
# Records are made by generate.sql.in (see there for their shape); the rollups are then built by the
# service's own migration (016_usage_rollups), whose time is reported too. Every figure is the median of
# --runs timed requests (curl's time_total) on a warm service. Writes $WORK/result-<db>.md and prints it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DB=${1:?postgres or sqlite}; shift
ROWS=50000000 BUILD=1 KEEP=0 REUSE=0 RUNS=7
while [[ $# -gt 0 ]]; do
  case $1 in
    --rows) ROWS=$2; shift ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    --reuse) REUSE=1; KEEP=1 ;;
    --runs) RUNS=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
SCRATCH=${SCRATCH_PATH:-.build-release}
WORK=${WORK:-/tmp/usage-bench}
mkdir -p "$WORK"
PORT=${PORT:-3099}
ADMIN=bench-admin-token-0123456789abcdef
BIN=${BIN:-"$ROOT/$SCRATCH/release/model-service"}
[[ $BUILD == 1 ]] && swift build -c release --scratch-path "$SCRATCH" --product model-service >&2

case $DB in
  postgres)
    URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5433/bench_usage}
    ADMIN_URL=${URL%/*}/postgres
    SQL() { psql -q -v ON_ERROR_STOP=1 "$URL"; }
    SQL_EXEC() { psql -Atq -v ON_ERROR_STOP=1 "$URL" -c "$1"; }
    if [[ $REUSE == 0 ]]; then
      psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS ${URL##*/}" -c "CREATE DATABASE ${URL##*/}"
    fi
    SERIES="generate_series(CAST(1 AS BIGINT), $ROWS) AS g"
    ID="lpad(to_hex(g), 8, '0') || '-0000-7000-8000-000000000000'"
    PREFIX=""
    ;;
  sqlite)
    FILE=$WORK/usage.sqlite
    URL="sqlite://$FILE"
    SQL() { sqlite3 -bail "$FILE"; }
    SQL_EXEC() { sqlite3 -bail "$FILE" "$1"; }
    [[ $REUSE == 0 ]] && rm -f "$FILE" "$FILE-wal" "$FILE-shm"
    SERIES="s"
    ID="printf('%08x-0000-7000-8000-000000000000', g)"
    PREFIX="WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $ROWS) "
    ;;
  *) echo "postgres or sqlite" >&2; exit 2 ;;
esac

NOW=$(($(date +%s) * 1000))
DAYS=90
START=$((NOW - DAYS * 86400000))
STEP=$((DAYS * 86400000 / ROWS))
PID=""
start_service() {
  DATABASE_URL=$URL ADMIN_TOKEN=$ADMIN PORT=$PORT HOST=127.0.0.1 DATA_DIR=$WORK/data ENCRYPTION_SECRET=bench-encryption-secret-0123456789abcdef \
    LOG_LEVEL=warning DATABASE_TIMEOUT_SECONDS=600 "$BIN" serve > "$WORK/service.log" 2>&1 &
  PID=$!
  local began=$(date +%s.%N)
  until curl -sf "http://127.0.0.1:$PORT/api/health" > /dev/null; do
    kill -0 "$PID" 2> /dev/null || { cat "$WORK/service.log" >&2; exit 1; }
    sleep 0.2
  done
  STARTED_SECONDS=$(echo "$(date +%s.%N) - $began" | bc)
}
stop_service() { [[ -n $PID ]] && kill "$PID" && wait "$PID" 2> /dev/null || true; PID=""; }
trap stop_service EXIT

LOAD_SECONDS="-" MIGRATE_SECONDS="-"
if [[ $REUSE == 0 ]]; then
  echo "migrating an empty database" >&2
  start_service
  stop_service
  echo "writing $ROWS records" >&2
  # The records' indexes and the rollups are made afterwards, by the migration, as an upgrade would.
  SQL_EXEC "DROP INDEX IF EXISTS usage_records_at; DROP INDEX IF EXISTS usage_records_user_at;
    DROP INDEX IF EXISTS usage_records_request_id;
    DROP TABLE IF EXISTS usage_hourly; DROP TABLE IF EXISTS usage_daily; DROP TABLE IF EXISTS usage_hourly_models;
    DROP TABLE IF EXISTS usage_daily_models; DROP TABLE IF EXISTS usage_hourly_users; DROP TABLE IF EXISTS usage_daily_users;
    DELETE FROM schema_migrations WHERE name = '016_usage_rollups'"
  began=$(date +%s.%N)
  sed -e "s/@ID@/$ID/" -e "s/@START@/$START/" -e "s/@STEP@/$STEP/" -e "s/@SERIES@/$SERIES/" Benchmarks/usage/generate.sql.in \
    | { [[ -n $PREFIX ]] && { printf '%s' "$PREFIX"; grep -v '^--'; } || cat; } > "$WORK/generate.sql"
  SQL < "$WORK/generate.sql"
  LOAD_SECONDS=$(echo "$(date +%s.%N) - $began" | bc)
  SQL_EXEC "CREATE INDEX IF NOT EXISTS usage_records_request_id ON usage_records (request_id)"
  echo "loaded in $LOAD_SECONDS s; migrating (rollups and indexes)" >&2
fi
start_service
MIGRATE_SECONDS=$([[ $REUSE == 1 ]] && echo "-" || echo "$STARTED_SECONDS")
echo "service up after $MIGRATE_SECONDS s" >&2

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # URL [curl options...]: the median time_total in ms over $RUNS runs, after one warm-up
  local url=$1; shift
  curl -sf -o /dev/null "$@" "$url"
  for _ in $(seq "$RUNS"); do curl -sf -o /dev/null -w '%{time_total}\n' "$@" "$url"; done | median | awk '{printf "%.1f", $1 * 1000}'
}
API="http://127.0.0.1:$PORT"
AUTH=(-H "Authorization: Bearer $ADMIN")
iso() { date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%SZ; }
FROM30=$(iso $((NOW - 30 * 86400000))) FROM90=$(iso $((NOW - 89 * 86400000)))
declare -A T
for grouping in day model user; do
  T[api30$grouping]=$(timed "$API/api/usage?from=$FROM30&groupBy=$grouping" "${AUTH[@]}")
  T[api90$grouping]=$(timed "$API/api/usage?from=$FROM90&groupBy=$grouping" "${AUTH[@]}")
done
T[api30user1]=$(timed "$API/api/usage?from=$FROM30&groupBy=day&userId=user-7" "${AUTH[@]}")
JAR=$WORK/cookies
curl -sf -o /dev/null -c "$JAR" -b "$JAR" -H "Origin: $API" --data-urlencode "token=$ADMIN" "$API/console/sign-in"
# The page itself, not a redirect to the sign-in page: its charts are there.
curl -sf -b "$JAR" "$API/console/usage" | grep -q "Cost per day" || { echo "the console usage page did not render for the signed-in admin" >&2; exit 1; }
T[console30]=$(timed "$API/console/usage" -b "$JAR")
T[console90]=$(timed "$API/console/usage?from=$(iso $((NOW - 89 * 86400000)) | cut -c1-10)" -b "$JAR")

# The export: one day of records as JSON lines, with the service's resident memory sampled every 100 ms.
EXPORT_FROM=$(iso $((NOW - 2 * 86400000))) EXPORT_TO=$(iso $((NOW - 86400000)))
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
RSS_BEFORE=$(rss)
( while kill -0 "$PID" 2> /dev/null; do rss; sleep 0.1; done ) > "$WORK/rss.txt" &
SAMPLER=$!
began=$(date +%s.%N)
EXPORT_BYTES=$(curl -sf "${AUTH[@]}" "$API/api/usage/export?from=$EXPORT_FROM&to=$EXPORT_TO&format=jsonl" | tee >(wc -l > "$WORK/export-lines") | wc -c)
EXPORT_SECONDS=$(echo "$(date +%s.%N) - $began" | bc)
kill $SAMPLER 2> /dev/null || true
EXPORT_LINES=$(cat "$WORK/export-lines")
RSS_MAX=$(sort -n "$WORK/rss.txt" | tail -1)
RSS_AFTER=$(rss)
stop_service

SIZE=$([[ $DB == postgres ]] && psql -Atq "$URL" -c "SELECT pg_size_pretty(pg_database_size(current_database()))" || du -h "$FILE" | cut -f1)
ROLLUPS=$(SQL_EXEC "SELECT (SELECT COUNT(*) FROM usage_hourly) || ' hourly and ' || (SELECT COUNT(*) FROM usage_daily) || ' daily in detail, '
  || (SELECT COUNT(*) FROM usage_hourly_users) || ' and ' || (SELECT COUNT(*) FROM usage_daily_users) || ' per user, '
  || (SELECT COUNT(*) FROM usage_hourly_models) || ' and ' || (SELECT COUNT(*) FROM usage_daily_models) || ' per model'")
{
  echo "### $DB, $ROWS records over $DAYS days ($SIZE; rollups: $ROLLUPS)"
  echo
  echo "Loaded in ${LOAD_SECONDS} s; the migration (rollups from the records, record indexes) took ${MIGRATE_SECONDS} s."
  echo
  echo "| request | 30 days | 90 days |"
  echo "|---|---|---|"
  echo "| \`GET /api/usage?groupBy=day\` | ${T[api30day]} ms | ${T[api90day]} ms |"
  echo "| \`GET /api/usage?groupBy=model\` | ${T[api30model]} ms | ${T[api90model]} ms |"
  echo "| \`GET /api/usage?groupBy=user\` | ${T[api30user]} ms | ${T[api90user]} ms |"
  echo "| \`GET /api/usage?groupBy=day&userId=…\` | ${T[api30user1]} ms | |"
  echo "| console \`/console/usage\` | ${T[console30]} ms | ${T[console90]} ms |"
  echo
  echo "Export of one day as JSON lines: $EXPORT_LINES records, $((EXPORT_BYTES / 1048576)) MiB in ${EXPORT_SECONDS} s;" \
       "service RSS $((RSS_BEFORE / 1024)) MiB before, at most $((RSS_MAX / 1024)) MiB during, $((RSS_AFTER / 1024)) MiB after."
} | tee "$WORK/result-$DB.md"
if [[ $KEEP == 0 ]]; then
  [[ $DB == postgres ]] && psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS ${URL##*/}" || rm -f "$FILE" "$FILE-wal" "$FILE-shm"
fi
