#!/usr/bin/env bash
# Start/stop a throwaway Neo4j 5.26 (embedded, community) for the test suite.
#
#   scripts/neo4j-server.sh start    build if needed, start on a fresh empty
#                                    database, print the Bolt URI once ready
#   scripts/neo4j-server.sh stop     stop it (SIGTERM, SIGKILL after 30 s)
#   scripts/neo4j-server.sh status   print the URI and exit 0 if running, else exit 1
#
# Environment:
#   JIEDUI_NEO4J_PORT           Bolt port on 127.0.0.1 (default 7688)
#   JIEDUI_NEO4J_HOME           state dir: pid, uri, logs, data (default <project>/.neo4j-test);
#                               the test suite's parallel workers each use their own (-gw0, -gw1)
#   JIEDUI_NEO4J_START_TIMEOUT  seconds to wait for readiness (default 120)
#   JIEDUI_NEO4J_JAVA_OPTS      extra JVM options, appended last; -Djiedui.neo4j.pagecache.mb=N
#                               sets the page cache (default 256 MiB)
#   JIEDUI_NEO4J_KEEP_DATA      1: start on the database already in the state dir
#                               (a loaded benchmark store) instead of wiping it
#   MAVEN_REPO_LOCAL            Maven local repository (default: Maven's own, ~/.m2/repository)
#   JAVA_HOME                   used if set, else `java` from PATH
#
# Auth is disabled and Bolt listens on loopback only. Each start wipes the
# data directory so every test run begins from an empty database, unless
# JIEDUI_NEO4J_KEEP_DATA=1 (benchmarks that load a province once).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${JIEDUI_NEO4J_PORT:-7688}"
STATE="${JIEDUI_NEO4J_HOME:-$ROOT/.neo4j-test}"
START_TIMEOUT="${JIEDUI_NEO4J_START_TIMEOUT:-120}"
STOP_TIMEOUT=30

SERVER_DIR="$ROOT/neo4j-server"
JAR="$SERVER_DIR/target/jiedui-neo4j-server.jar"
PID_FILE="$STATE/pid"
URI_FILE="$STATE/uri"
LOG_FILE="$STATE/server.log"
BUILD_LOG="$STATE/build.log"
DATA_DIR="$STATE/data"
PYTHON="$ROOT/.venv/bin/python"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    JAVA="$JAVA_HOME/bin/java"
else
    JAVA="java"
fi

# Bounded heap; the page cache (256 MiB, off-heap, unless -Djiedui.neo4j.pagecache.mb) is capped by the launcher.
# The remaining flags follow the stock neo4j.conf (the --add-opens it also
# lists are in the jar's manifest).
JAVA_OPTS=(
    -Xms256m -Xmx1g
    -XX:+ExitOnOutOfMemoryError
    -XX:-OmitStackTraceInFastThrow
    -Djdk.nio.maxCachedBufferSize=1024
    -Dio.netty.tryReflectionSetAccessible=true
    -Dlog4j2.disable.jmx=true
)

log() { printf '%s\n' "$*" >&2; }

# Only a live process running our jar counts: a stale pid file whose pid
# was reused by something else must not be mistaken for the server.
running_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'jiedui-neo4j-server\.jar' || return 1
    printf '%s\n' "$pid"
}

port_in_use() {
    # A successful connect means something already listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Serialise start/stop so parallel callers (e.g. several test workers)
# neither build twice nor launch two servers. fd 9 is closed for the
# server process itself so it doesn't hold the lock forever.
take_lock() {
    mkdir -p "$STATE"
    exec 9>"$STATE/lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 600 9 || { log "could not lock $STATE/lock"; exit 1; }
    fi
}

needs_build() {
    [[ -f "$JAR" && -d "$SERVER_DIR/target/lib" ]] || return 0
    # Rebuild when the pom or any source is newer than the jar.
    [[ -n "$(find "$SERVER_DIR/pom.xml" "$SERVER_DIR/src" -newer "$JAR" -print -quit)" ]]
}

build() {
    local mvn_args=(-q -B -f "$SERVER_DIR/pom.xml" package)
    if [[ -n "${MAVEN_REPO_LOCAL:-}" ]]; then
        mvn_args+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
    fi
    command -v mvn >/dev/null 2>&1 || { log "mvn not found on PATH"; exit 1; }
    log "building neo4j-server (log: $BUILD_LOG) ..."
    if ! mvn "${mvn_args[@]}" >"$BUILD_LOG" 2>&1; then
        log "build failed; last lines of $BUILD_LOG:"
        tail -n 40 "$BUILD_LOG" >&2 || true
        exit 1
    fi
}

# Servers with state dirs of their own (one per test worker) share the jar: the first to start
# builds it while the others wait on a lock beside it, then find it built. fd 8 is closed at once.
build_once() {
    mkdir -p "$SERVER_DIR/target"
    exec 8>"$SERVER_DIR/target/build.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 900 8 || { log "could not lock $SERVER_DIR/target/build.lock"; exit 1; }
    fi
    if needs_build; then
        build
    fi
    exec 8>&-
}

# Close every descriptor above stdio in this (sub)shell.
close_inherited() {
    local fd
    for fd in /proc/self/fd/*; do
        fd="${fd##*/}"
        if [[ "$fd" =~ ^[0-9]+$ ]] && (( fd > 2 )); then
            eval "exec ${fd}>&-" 2>/dev/null || true
        fi
    done
}

# A real Bolt round trip with the project's own driver when it is there,
# otherwise a plain TCP connect (the launcher only prints its URI after the
# database is available, so that is already a strong signal).
bolt_ok() {
    local uri="$1"
    if [[ -x "$PYTHON" ]] && "$PYTHON" -c 'import neo4j' >/dev/null 2>&1; then
        "$PYTHON" - "$uri" >/dev/null 2>&1 <<'PY'
import sys
from neo4j import GraphDatabase
with GraphDatabase.driver(sys.argv[1], auth=None, connection_timeout=5) as d:
    d.execute_query("RETURN 1")
PY
    else
        port_in_use "$PORT"
    fi
}

fail_start() {
    local pid="$1"
    log "neo4j failed to start: $2"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE" "$URI_FILE"
    log "last lines of $LOG_FILE:"
    tail -n 40 "$LOG_FILE" >&2 2>/dev/null || true
    exit 1
}

cmd_start() {
    take_lock
    local old
    if old="$(running_pid)"; then
        if [[ -s "$URI_FILE" ]]; then
            cat "$URI_FILE"
            return 0
        fi
        # Running but never reported ready (an earlier start was interrupted):
        # replace it rather than trust it.
        stop_pid "$old"
    fi
    rm -f "$PID_FILE" "$URI_FILE"

    build_once

    if port_in_use "$PORT"; then
        log "port 127.0.0.1:$PORT is already in use by another process (set JIEDUI_NEO4J_PORT)"
        exit 1
    fi

    # Fresh, empty database every start (reproducible tests), unless asked to keep it.
    if [[ "${JIEDUI_NEO4J_KEEP_DATA:-0}" != 1 ]]; then
        rm -rf "$DATA_DIR"
    fi
    mkdir -p "$DATA_DIR"

    local uri="bolt://127.0.0.1:$PORT"
    local started=$SECONDS
    # setsid: own session, so a Ctrl-C aimed at the caller doesn't kill the
    # server mid-write; stdio all redirected so callers capturing our output
    # (e.g. subprocess.run) are not left waiting on the server's pipes.
    local detach=()
    if command -v setsid >/dev/null 2>&1; then
        detach=(setsid)
    fi
    # No other descriptor of ours or of the caller's goes with it: a lock the caller took with
    # `flock FILE …` (or our fd 9) would otherwise stay held for as long as the server runs.
    # shellcheck disable=SC2086
    (
        close_inherited
        exec "${detach[@]}" "$JAVA" "${JAVA_OPTS[@]}" ${JIEDUI_NEO4J_JAVA_OPTS:-} \
            -jar "$JAR" "$DATA_DIR" "$PORT"
    ) </dev/null >"$LOG_FILE" 2>&1 &
    local pid=$!
    echo "$pid" >"$PID_FILE"

    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            fail_start "" "process exited"
        fi
        if grep -qxF "$uri" "$LOG_FILE" 2>/dev/null && bolt_ok "$uri"; then
            break
        fi
        if (( SECONDS - started >= START_TIMEOUT )); then
            fail_start "$pid" "not ready after ${START_TIMEOUT}s"
        fi
        sleep 0.5
    done

    printf '%s\n' "$uri" >"$URI_FILE.tmp"
    mv -f "$URI_FILE.tmp" "$URI_FILE"
    log "neo4j ready in $((SECONDS - started))s (pid $pid, log $LOG_FILE)"
    printf '%s\n' "$uri"
}

# SIGTERM lets the launcher's shutdown hook close the store cleanly;
# SIGKILL is the last resort.
stop_pid() {
    local pid="$1" waited=0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if (( waited >= STOP_TIMEOUT * 10 )); then
            log "neo4j (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    # After SIGKILL, give the kernel a moment to reap it.
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$PID_FILE" "$URI_FILE"
}

cmd_stop() {
    take_lock
    local pid
    if pid="$(running_pid)"; then
        stop_pid "$pid"
    fi
    rm -f "$PID_FILE" "$URI_FILE"
}

cmd_status() {
    if running_pid >/dev/null && [[ -s "$URI_FILE" ]]; then
        cat "$URI_FILE"
        return 0
    fi
    log "neo4j is not running"
    return 1
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        log "usage: $(basename "$0") start|stop|status"
        exit 2
        ;;
esac
