#!/usr/bin/env bash
# The container's runtime stage without a container registry: the release binary with the Swift standard
# library linked statically (as the Dockerfile builds it) and its resources, run in a fresh Debian bookworm
# root file system that has only the packages the Dockerfile's runtime stage installs. It must start,
# migrate, answer /api/health, complete a chat against the fake providers (run from the same binary), and
# stop on SIGTERM within the bound. Proves the Dockerfile's runtime package list complete.
#
#   bash deploy/runtime-check.sh [--no-build]      # needs root (debootstrap, chroot, mounts) and Debian's mirrors
#
# Env: SCRATCH_PATH (default .build-static), ROOTFS_TARBALL (a debootstrap tarball to reuse, made if missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=1
[[ ${1:-} == --no-build ]] && BUILD=0
SCRATCH=${SCRATCH_PATH:-.build-static}
WORK=$(mktemp -d /tmp/runtime-check.XXXXXX)
ROOTFS=$WORK/rootfs
SERVE_PID="" FAKE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill -9 "$SERVE_PID" 2> /dev/null || true
  if [[ -n $FAKE_PID ]]; then kill -9 "$FAKE_PID" 2> /dev/null; wait "$FAKE_PID" 2> /dev/null; fi || true
  umount "$ROOTFS/proc" 2> /dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "runtime-check: $*" >&2; [[ -f $WORK/serve.log ]] && tail -20 "$WORK/serve.log" >&2; exit 1; }

if [[ $BUILD == 1 ]]; then
  swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product model-service
fi
BIN_DIR=$(swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --show-bin-path)
[[ -x $BIN_DIR/model-service ]] || fail "no static build in $BIN_DIR"
if ldd "$BIN_DIR/model-service" | grep -q libswift; then fail "the binary still loads the Swift runtime: $(ldd "$BIN_DIR/model-service" | grep libswift)"; fi
echo "runtime-check: the binary loads:"; ldd "$BIN_DIR/model-service" | sed 's/^/  /'

# The runtime stage's packages, read from the Dockerfile itself (its one apt-get install line).
PACKAGES=$(sed -n '/^FROM debian:bookworm-slim/,$p' Dockerfile | grep -o 'apt-get install -y --no-install-recommends[^&]*' | sed 's/apt-get install -y --no-install-recommends//' | tr -d '\\')
[[ -n ${PACKAGES// /} ]] || fail "no runtime package list found in the Dockerfile"
echo "runtime-check: runtime packages:$PACKAGES"

TARBALL=${ROOTFS_TARBALL:-/tmp/bookworm-minbase.tgz}
[[ -f $TARBALL ]] || debootstrap --variant=minbase --make-tarball="$TARBALL" bookworm "$WORK/tarball-work" > /dev/null
debootstrap --variant=minbase --unpack-tarball="$TARBALL" bookworm "$ROOTFS" > /dev/null
chmod 755 "$ROOTFS"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
chroot "$ROOTFS" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES > /dev/null 2>&1"
chroot "$ROOTFS" useradd --system --home-dir /data --shell /usr/sbin/nologin model-service
mkdir -p "$ROOTFS/app" "$ROOTFS/data" && chroot "$ROOTFS" chown model-service:model-service /data
cp "$BIN_DIR/model-service" "$ROOTFS/app/" && cp -R "$BIN_DIR"/*.resources "$ROOTFS/app/"
mount -t proc proc "$ROOTFS/proc"
# Always called in a subshell of its own (`$(…)` or `&`): `exec` makes the service that subshell's process, so `$!`
# names the service itself and SIGTERM reaches it, not a shell that would die at once and leave it running.
run() { exec chroot --userspec=model-service:model-service "$ROOTFS" env -i HOME=/data "$@"; }

version=$(run /app/model-service version) || fail "version failed"
echo "runtime-check: $version"

FAKE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run /app/model-service fake-providers --port "$FAKE_PORT" > "$WORK/fake.log" 2>&1 &
FAKE_PID=$!
ADMIN=runtime-check-admin-0123456789abcdef
run DATA_DIR=/data HOST=127.0.0.1 PORT="$PORT" ADMIN_TOKEN=$ADMIN ENCRYPTION_SECRET=runtime-check-encryption-secret-0123456789 \
  OPENAI_BASE_URL="http://127.0.0.1:$FAKE_PORT/openai/v1" OPENAI_API_KEY=sk-runtime-check-0123456789 LOG_LEVEL=notice \
  /app/model-service serve > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 150); do
  curl -sf "http://127.0.0.1:$PORT/api/health" > "$WORK/health.json" 2> /dev/null && break
  kill -0 "$SERVE_PID" 2> /dev/null || fail "serve exited during start-up"
  sleep 0.2
done
grep -q '"status":"ok"' "$WORK/health.json" || fail "/api/health: $(cat "$WORK/health.json" 2> /dev/null)"
answer=$(curl -sf "http://127.0.0.1:$PORT/v1/chat/completions" -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello from the runtime check"}]}') || fail "the chat failed"
grep -q "Echo from openai: hello from the runtime check" <<< "$answer" || fail "unexpected answer: $answer"
[[ -f $ROOTFS/data/model-service.sqlite ]] || fail "no database in /data"

# SIGTERM: the usage drain is bounded by USAGE_SHUTDOWN_SECONDS (10 s); the unit and compose allow 30 s.
began=$(date +%s.%N)
kill -TERM "$SERVE_PID"
for _ in $(seq 300); do kill -0 "$SERVE_PID" 2> /dev/null || break; sleep 0.1; done
kill -0 "$SERVE_PID" 2> /dev/null && fail "serve did not stop within 30 s of SIGTERM"
wait "$SERVE_PID" 2> /dev/null || true
SERVE_PID=""
# Nothing of the service may be left running in the root file system.
for proc in /proc/[0-9]*; do
  if [[ $(readlink "$proc/root" 2> /dev/null) == "$ROOTFS" ]] && grep -qa serve "$proc/cmdline" 2> /dev/null; then
    fail "a serve process (pid ${proc#/proc/}) outlived SIGTERM"
  fi
done
stopped=$(echo "$(date +%s.%N) - $began" | bc)
echo "runtime-check: started, migrated, answered /api/health and a chat, stopped ${stopped}s after SIGTERM"
