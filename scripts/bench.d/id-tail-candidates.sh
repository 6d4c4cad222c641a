#!/usr/bin/env bash
# What the id-tail lookup costs the hot path, per candidate (issue 19 item 1; the figures are in
# scripts/bench.d/NOTES.md "Id tail"). One cluster, one database per candidate, each filled with
# FILL completed jobs (so every index is large, as in production), then ROUNDS rounds that
# alternate over the candidates: enqueue JOBS jobs (pgbench, 100-job INSERTs), then claim +
# complete them (pgbench, scripts/bench.d/claim_complete.pgbench, batch 100, 2 clients).
# Server CPU = every process of the cluster (backends, reaped backends through the postmaster's
# cutime/cstime, walwriter, checkpointer, autovacuum), from /proc, in ms per 1,000 jobs.
# Autovacuum is off for job_queue and job_queue_ids (a VACUUM runs between the steps instead), so
# a worker of it landing in one candidate's round does not count there.
#   scripts/bench.d/id-tail-candidates.sh DATABASE_URL_OF_ADMIN_DB BUNDLE.sql [ROUNDS] [FILL] [JOBS]
# SKIP_SETUP=1 reuses the databases of an earlier run.
# Candidates: main (text index on reverse(right(id::text, 12))), none (no tail index), int8 (an
# expression index on the nibble-reversed tail as int8), side (job_queue_ids(tail int8, id uuid),
# primary key (tail, id), filled by an AFTER INSERT statement trigger), side_heap (the same side
# table with an index on tail alone), branch (BRANCH_BUNDLE installed as it is: 0028's side table
# and triggers, for the final check of what was built).
set -euo pipefail
admin=$1 bundle=$2 ROUNDS=${3:-3} FILL=${4:-1000000} JOBS=${5:-20000}
D=$(cd "$(dirname "$0")" && pwd)
PGBENCH=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pgbench
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
url() { echo "${admin/\/queuetop\?//$1?}"; }
CANDS=${CANDS:-"main none int8 side side_heap"}
postmaster=$(sql "$admin" -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" | xargs -I{} awk '{print $4}' /proc/{}/stat)
cpu_ticks() {  # every process of the cluster, alive or reaped
  local t=0 p
  read -r -a f < <(sed 's/^.*) //' /proc/$postmaster/stat)
  t=$(( f[11] + f[12] + f[13] + f[14] ))  # utime stime cutime cstime of the postmaster
  for p in $(pgrep -P "$postmaster"); do
    read -r -a f < <(sed 's/^.*) //' /proc/$p/stat 2>/dev/null) || continue
    t=$(( t + f[11] + f[12] ))
  done
  echo $t
}
TAILKEY="(('x' || reverse(right(id::text, 12)))::bit(48)::int8)"
setup() {
  local c=$1 db; db=$(url "idtail_$c")
  sql "$admin" -c "DROP DATABASE IF EXISTS idtail_$c" -c "CREATE DATABASE idtail_$c" >/dev/null
  sql "$db" -f "$([ "$c" = branch ] && echo "$BRANCH_BUNDLE" || echo "$bundle")" >/dev/null
  sql "$db" -c "SET search_path = queuetop" -c "INSERT INTO queues (name) VALUES ('bench')" >/dev/null
  case $c in
    main|branch) ;;
    none) sql "$db" -c "DROP INDEX queuetop.job_queue_id_tail_idx" ;;
    int8) sql "$db" -c "DROP INDEX queuetop.job_queue_id_tail_idx" -c "CREATE INDEX job_queue_id_tail_key_idx ON queuetop.job_queue ($TAILKEY)" ;;
    side|side_heap)
      sql "$db" -c "DROP INDEX queuetop.job_queue_id_tail_idx" -c "SET search_path = queuetop" \
        -c "CREATE TABLE job_queue_ids (tail int8 NOT NULL, id uuid NOT NULL)" \
        -c "$([ $c = side ] && echo 'ALTER TABLE job_queue_ids ADD PRIMARY KEY (tail, id)' || echo 'CREATE INDEX ON job_queue_ids (tail)')" \
        -c "CREATE FUNCTION job_queue_ids_insert() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN INSERT INTO queuetop.job_queue_ids (tail, id) SELECT $TAILKEY, id FROM new_rows; RETURN NULL; END \$\$" \
        -c "CREATE TRIGGER job_queue_ids_insert AFTER INSERT ON job_queue REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION job_queue_ids_insert()" >/dev/null ;;
  esac
  sql "$db" -c "ALTER TABLE queuetop.job_queue SET (autovacuum_enabled = off)" >/dev/null
  [ "$(sql "$db" -c "SELECT to_regclass('queuetop.job_queue_ids') IS NOT NULL")" = t ] &&
    sql "$db" -c "ALTER TABLE queuetop.job_queue_ids SET (autovacuum_enabled = off)" >/dev/null
  sql "$db" -c "SET search_path = queuetop" \
    -c "INSERT INTO job_queue (queue, job_type, status, started_at, completed_at) SELECT 'bench', 'noop', 'completed', now(), now() FROM generate_series(1, $FILL)" \
    -c "SELECT health_fold()" -c "VACUUM ANALYZE" >/dev/null
}
round() {
  local c=$1 r=$2 db t0 t1 t2 enq cc done
  db=$(url "idtail_$c")
  sql "$db" -c "CHECKPOINT" >/dev/null
  t0=$(cpu_ticks)
  enq=$("$PGBENCH" -n -M extended -f <(echo "INSERT INTO queuetop.job_queue (queue, job_type) SELECT 'bench', 'noop' FROM generate_series(1, 100);") \
        -t $((JOBS / 100)) -c 1 "$db" 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
  sleep 1  # the backend's exit: the postmaster adds its time to its own once it has reaped it
  t1=$(cpu_ticks)
  sql "$db" -c "SET search_path = queuetop" -c "SELECT health_fold()" -c "VACUUM ANALYZE queuetop.job_queue" -c "CHECKPOINT" >/dev/null
  t1b=$(cpu_ticks)
  cc=$(PGOPTIONS="-c search_path=queuetop" "$PGBENCH" -n -M extended -f "$D/claim_complete.pgbench" -D queue=bench -D batch=100 \
        -c 2 -j 2 -t $((JOBS / 200)) "$db" 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
  sleep 1
  t2=$(cpu_ticks)
  done=$(sql "$db" -c "SELECT count(*) FROM queuetop.job_queue WHERE status <> 'completed'")
  sql "$db" -c "SET search_path = queuetop" -c "SELECT health_fold()" >/dev/null
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$c" \
    "$(awk -v a="$enq" 'BEGIN{printf "%.0f", a*100}')" "$(( (t1 - t0) * 10 * 1000 / JOBS ))" \
    "$(awk -v a="$cc" 'BEGIN{printf "%.0f", a*100}')" "$(( (t2 - t1b) * 10 * 1000 / JOBS ))" "$done"
}
echo "# load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S) fill $FILL jobs/round $JOBS" >&2
if [ "${SKIP_SETUP:-0}" = 1 ]; then
  for c in $CANDS; do
    for t in job_queue job_queue_ids; do
      [ "$(sql "$(url "idtail_$c")" -c "SELECT to_regclass('queuetop.$t') IS NOT NULL")" = t ] &&
        sql "$(url "idtail_$c")" -c "ALTER TABLE queuetop.$t SET (autovacuum_enabled = off)" -c "VACUUM ANALYZE queuetop.$t" >/dev/null
    done
  done
else
  for c in $CANDS; do setup "$c"; done
fi
echo "# sizes: $(for c in $CANDS; do printf '%s=%s ' $c "$(sql "$(url idtail_$c)" -c "SELECT pg_size_pretty(coalesce(pg_relation_size(to_regclass('queuetop.job_queue_id_tail_idx')),0) + coalesce(pg_relation_size(to_regclass('queuetop.job_queue_id_tail_key_idx')),0) + coalesce(pg_total_relation_size(to_regclass('queuetop.job_queue_ids')),0))")"; done)" >&2
printf 'round\tcandidate\tenqueue_jobs_s\tenqueue_cpu_ms_per_1000\tclaim_complete_jobs_s\tclaim_complete_cpu_ms_per_1000\tleft\n'
for r in $(seq 1 "$ROUNDS"); do
  for c in $CANDS; do round "$c" "$r"; done
  echo "# round $r done, load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)" >&2
done
