#!/usr/bin/env bash
# Validates the deployment files without a container registry or a running systemd:
# - deploy/compose.yaml with `docker-compose config` (Debian's docker-compose; no daemon needed);
# - deploy/nginx.conf with `nginx -t`, in a mount namespace whose /etc/hosts names the compose services;
# - deploy/model-service.service with `systemd-analyze verify` (its binary stood in for; its user created if missing).
# Exits non-zero on the first failure. Needs root (unshare, useradd).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "compose: docker-compose config"
cp "$ROOT/deploy/model-service.env.example" "$WORK/model-service.env"
cp "$ROOT/deploy/"{compose.yaml,nginx.conf,prometheus.yml} "$WORK/"
POSTGRES_PASSWORD=check docker-compose -f "$WORK/compose.yaml" --project-directory "$WORK" config -q

echo "nginx: nginx -t"
printf '127.0.0.1 localhost\n127.0.0.1 model-service-1\n127.0.0.1 model-service-2\n' > "$WORK/hosts"
unshare -m sh -c "mount --bind '$WORK/hosts' /etc/hosts && nginx -t -q -c '$ROOT/deploy/nginx.conf' -p '$WORK' -g 'pid $WORK/nginx.pid; error_log stderr;'"

echo "systemd: systemd-analyze verify"
id model-service > /dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin model-service
# The unit's binary, stood in for on a tmpfs that exists only in this namespace.
# It reports a bad value on stderr but still exits 0: any output is a failure.
report=$(unshare -m sh -c "
  mount -t tmpfs tmpfs /usr/local/bin && printf '#!/bin/sh\\n' > /usr/local/bin/model-service && chmod 755 /usr/local/bin/model-service
  systemd-analyze verify '$ROOT/deploy/model-service.service'
" 2>&1) || { echo "$report" >&2; exit 1; }
[[ -z $report ]] || { echo "$report" >&2; exit 1; }
echo "deployment files are valid"
