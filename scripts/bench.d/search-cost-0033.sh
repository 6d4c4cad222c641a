#!/usr/bin/env bash
# What 0033's indexes cost the hot path (docs/BENCHMARKS.md "0033: pending and retrying"), and the
# candidate they were weighed against: scripts/bench's index_cost by hand (search-enqueue.pgbench,
# then claim_complete.pgbench at batch 100 with 2 clients, JOBS jobs) with 0031's set alone
# ("none") and with each of these added, the sets rotating order each round. Prints one line per
# round and set; take medians.
#   scripts/bench.d/search-cost-0033.sh URL [ROUNDS] [JOBS]   (URL: a migrated database it may empty)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
U=$1; ROUNDS=${2:-5}; N=${3:-20000}
export PGOPTIONS="-c client_min_messages=warning -c search_path=queuetop,public"
PGBENCH=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pgbench
D=scripts/bench.d
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql "$U" -c "INSERT INTO queues (name) VALUES ('bench') ON CONFLICT DO NOTHING"
# 0033's two (the definitions of QueueStore/OnlineIndexes.swift), and the candidate: every pending job.
READY="CREATE INDEX job_queue_ready_id_idx ON job_queue (id) WHERE status = 'pending' AND attempt_count = 0 AND run_at <= created_at;"
DEFER="CREATE INDEX job_queue_deferred_run_at_idx ON job_queue (((attempt_count > 0)::int), run_at, id) WHERE status = 'pending' AND (attempt_count > 0 OR run_at > created_at);"
PEND="CREATE INDEX bench_job_queue_pending_id_idx ON job_queue (id) WHERE status = 'pending';"
set_sql() { case $1 in none) ;; ready) echo "$READY" ;; deferred) echo "$DEFER" ;; both) echo "$READY $DEFER" ;; pending) echo "$PEND" ;; esac; }
sets=(none ready deferred both pending)
echo "round set enqueue_jobs_s claim_complete_jobs_s load"
for round in $(seq 1 "$ROUNDS"); do
  for k in "${!sets[@]}"; do
    set=${sets[$(( (k + round - 1) % ${#sets[@]} ))]}
    sql "$U" -c "TRUNCATE job_queue CASCADE" -c "DROP INDEX IF EXISTS job_queue_ready_id_idx, job_queue_deferred_run_at_idx, bench_job_queue_pending_id_idx"
    s=$(set_sql "$set"); [ -z "$s" ] || sql "$U" -c "$s"
    sql "$U" -c "VACUUM ANALYZE job_queue" -c "CHECKPOINT"
    p=$("$PGBENCH" -n -M extended -f "$D/search-enqueue.pgbench" -t $(( N / 100 )) -c 1 "$U" 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
    sql "$U" -c "VACUUM ANALYZE job_queue" -c "CHECKPOINT"
    c=$("$PGBENCH" -n -M extended -f "$D/claim_complete.pgbench" -D queue=bench -D batch=100 -c 2 -j 2 -t $(( N / 200 )) "$U" 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
    done=$(sql "$U" -c "SELECT count(*) FROM job_queue WHERE status = 'completed'")
    echo "$round $set $(awk -v a="${p:-0}" 'BEGIN{printf "%.0f", a*100}') $(awk -v a="${c:-0}" 'BEGIN{printf "%.0f", a*100}') $(cut -d' ' -f1 /proc/loadavg) done=$done"
  done
done
