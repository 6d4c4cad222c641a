# The demo's moving parts, shared by scripts/demo and scripts/screenshots. Sourced, not run,
# inside `scripts/pg run` (DATABASE_URL and QT_PG_DIR set) with $bin naming the queuetop binary.

demo_tmux_socket="queuetop-$(basename "${QT_PG_DIR:-outside}")-$$"
demo_producer_pid=""

# Migrates, seeds (a no-op when the data is already there) and starts the producer.
demo_start_workload() {
  "$bin" migrate >/dev/null
  "$bin" demo seed
  # --stop-with: even if this script is killed outright (no trap runs), the producer follows it.
  "$bin" demo produce --stop-with $$ 2>>"$QT_PG_DIR/producer.log" &
  demo_producer_pid=$!
}

# Stops what demo_start_workload and demo_dash_in_tmux started. The producer goes first, so that
# nothing new arrives while the workers hand back their jobs. Safe to call twice.
demo_stop() {
  if [ -n "$demo_producer_pid" ] && kill -0 "$demo_producer_pid" 2>/dev/null; then
    kill -TERM "$demo_producer_pid" 2>/dev/null || true
    wait "$demo_producer_pid" 2>/dev/null || true
  fi
  tmux -L "$demo_tmux_socket" kill-server 2>/dev/null || true
}

# The dashboard command line: the embedded pool works every queue with the simulate handlers.
demo_dash_command() {
  demo_dash=("$bin" dash --config "$QT_ROOT/scripts/lib/demo-workers.json" --concurrency 16)
}

# Starts the real dashboard in a detached tmux of 120x40 (session "demo"), so that what it draws
# can be read back. Its exit status lands in $QT_PG_DIR/dash.rc, since tmux does not pass it on.
demo_dash_in_tmux() {
  demo_dash_command
  rm -f "$QT_PG_DIR/dash.rc"
  local cmd
  printf -v cmd '%q ' "${demo_dash[@]}"
  tmux -L "$demo_tmux_socket" -f /dev/null new-session -d -s demo -x 120 -y 40 \
    -e "DATABASE_URL=$DATABASE_URL" -e "LANG=C.UTF-8" -e "TERM=xterm-256color" \
    "$cmd 2>>$(printf %q "$QT_PG_DIR/dash.log"); echo \$? >$(printf %q "$QT_PG_DIR/dash.rc")"
}

demo_tmux() { tmux -L "$demo_tmux_socket" "$@"; }

# Sends Q and waits for the dashboard to quit (the pool gets its grace to hand back jobs).
# Returns the dashboard's exit status, or 1 if it had not quit after 40 s.
demo_quit_dash() {
  demo_tmux send-keys -t demo Q 2>/dev/null || true
  for _ in $(seq 1 400); do
    demo_tmux has-session -t demo 2>/dev/null || break
    sleep 0.1
  done
  if demo_tmux has-session -t demo 2>/dev/null; then
    qt_log "the dashboard did not quit on Q within 40 s"
    return 1
  fi
  local rc
  rc=$(cat "$QT_PG_DIR/dash.rc" 2>/dev/null || echo 1)
  if [ "$rc" != 0 ]; then
    qt_log "the dashboard exited with status $rc; the end of its log:"
    tail -n 5 "$QT_PG_DIR/dash.log" >&2 || true
  fi
  return "$rc"
}

# The binary to run: QUEUETOP_BIN, else a fresh build. Refuses one without the dashboard.
demo_binary() {
  if [ -n "${QUEUETOP_BIN:-}" ]; then
    bin=$QUEUETOP_BIN
    [ -x "$bin" ] || qt_die "QUEUETOP_BIN=$bin is not an executable"
  else
    qt_ensure_swift
    qt_log "building"
    (cd "$QT_ROOT" && swift build 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]') || qt_die "build failed"
    bin=$(cd "$QT_ROOT" && swift build --show-bin-path)/queuetop
  fi
  # `dash --help` alone proves nothing: the argument parser answers --help for any word.
  # Not `grep -q`: it exits at the first match, the help's writer then gets SIGPIPE, and with
  # pipefail a build that has the dashboard reads as one that hasn't.
  "$bin" dash --help 2>/dev/null | grep -- '--no-workers' >/dev/null \
    || qt_die "this build of queuetop has no dashboard (queuetop dash); build a version that has it"
}
