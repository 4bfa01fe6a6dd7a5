# Shared helpers for ops/run, ops/test and ops/bench: a private PostgreSQL cluster and smtp4dev.
# Sourced, not executed. Every function prints what it starts.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# as_postgres CMD...: PostgreSQL refuses to run as root, so run its binaries as the postgres user.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start DIR PORT: initialise (once) and start a cluster on 127.0.0.1:PORT with its data in DIR.
pg_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir" && chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "initdb: new PostgreSQL cluster in $dir"
    as_postgres "$PG_BIN/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 512MB
fsync = ${PG_FSYNC:-on}
synchronous_commit = ${PG_SYNC_COMMIT:-on}
full_page_writes = ${PG_FSYNC:-on}
max_wal_size = 4GB
CONF
  fi
  if as_postgres "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    log "PostgreSQL already running on 127.0.0.1:$port ($dir)"
  else
    log "starting PostgreSQL on 127.0.0.1:$port ($dir)"
    as_postgres "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
  fi
}

pg_stop() {
  local dir=$1
  if as_postgres "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    log "stopping PostgreSQL ($dir)"
    as_postgres "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
  fi
}

# smtp_start HTTP_PORT SMTP_PORT PIDFILE LOGFILE: start smtp4dev (in-memory) unless it answers already.
smtp_start() {
  local http=$1 smtp=$2 pidfile=$3 logfile=$4
  if curl -fsS "http://127.0.0.1:$http/api/messages" >/dev/null 2>&1; then
    log "smtp4dev already running (http://127.0.0.1:$http, smtp 127.0.0.1:$smtp)"; return 0
  fi
  (cd "$REPO_ROOT" && dotnet tool restore >/dev/null)
  log "starting smtp4dev: web/API http://127.0.0.1:$http, SMTP 127.0.0.1:$smtp"
  (cd "$REPO_ROOT" && setsid dotnet tool run smtp4dev -- --urls "http://127.0.0.1:$http" --smtpport "$smtp" \
      --imapport $((smtp + 10)) --pop3port $((smtp + 20)) --bindaddress 127.0.0.1 --db "" --messagestokeep 100000 \
      >"$logfile" 2>&1 & echo $! >"$pidfile")
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$http/api/messages" >/dev/null 2>&1; then
      # $! above is setsid's, which may have forked and exited: record the real session leader (the
      # `dotnet tool run` process, whose group holds smtp4dev itself) so that smtp_stop can end the group.
      pgrep -o -f -- "smtp4dev -- --urls http://127.0.0.1:$http " >"$pidfile" || true
      return 0
    fi
    sleep 0.5
  done
  log "smtp4dev did not answer; see $logfile"; return 1
}

smtp_stop() {
  local pidfile=$1
  if [ -f "$pidfile" ]; then
    log "stopping smtp4dev"
    kill -- -"$(cat "$pidfile")" 2>/dev/null || kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

# ensure_chromium: Debian's Chromium and CJK fonts for the browser tests (never a downloaded build).
ensure_chromium() {
  if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then return 0; fi
  log "installing chromium and fonts-noto-cjk from Debian"
  if [ "$(id -u)" != 0 ]; then log "not root: install chromium fonts-noto-cjk yourself"; return 1; fi
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
}
