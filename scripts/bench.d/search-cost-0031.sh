#!/usr/bin/env bash
# What 0031's indexes cost the hot path (docs/BENCHMARKS.md "0031: time, completed and scheduled"):
# scripts/bench's index_cost by hand (search-enqueue.pgbench, then claim_complete.pgbench at batch
# 100 with 2 clients, JOBS jobs) without and with each of 0031's indexes, the sets rotating order
# each round. Prints one line per round and set; take medians.
#   scripts/bench.d/search-cost-0031.sh URL [ROUNDS] [JOBS]   (URL: a migrated database it may empty)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
U=$1; ROUNDS=${2:-5}; N=${3:-30000}
export PGOPTIONS="-c client_min_messages=warning -c search_path=queuetop,public"
PGBENCH=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pgbench
D=scripts/bench.d
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql "$U" -c "INSERT INTO queues (name) VALUES ('bench') ON CONFLICT DO NOTHING"
DRIFT="CREATE INDEX job_queue_time_late_id_idx ON job_queue (id) WHERE (created_at - to_timestamp(('x' || encode(substring(uuid_send(id) from 1 for 6), 'hex'))::bit(48)::bigint / 1000.0::float8)) BETWEEN interval '-1 minute' AND interval '-1 s'; CREATE INDEX job_queue_time_drift_id_idx ON job_queue (id) WHERE (created_at - to_timestamp(('x' || encode(substring(uuid_send(id) from 1 for 6), 'hex'))::bit(48)::bigint / 1000.0::float8)) NOT BETWEEN interval '-1 minute' AND interval '1 ms';"
COMPL="CREATE INDEX job_queue_completed_id_idx ON job_queue (id) WHERE status = 'completed';"
SCHED="CREATE INDEX job_queue_scheduled_id_idx ON job_queue (id) WHERE status = 'pending' AND attempt_count = 0 AND run_at > created_at;"
set_sql() { case $1 in none) ;; time) echo "$DRIFT" ;; completed) echo "$COMPL" ;; scheduled) echo "$SCHED" ;; all) echo "$DRIFT $COMPL $SCHED" ;; esac; }
sets=(none time completed scheduled all)
echo "round set enqueue_jobs_s claim_complete_jobs_s load"
for round in $(seq 1 "$ROUNDS"); do
  for k in "${!sets[@]}"; do
    set=${sets[$(( (k + round - 1) % ${#sets[@]} ))]}
    sql "$U" -c "TRUNCATE job_queue CASCADE" -c "DROP INDEX IF EXISTS job_queue_time_late_id_idx, job_queue_time_drift_id_idx, job_queue_completed_id_idx, job_queue_scheduled_id_idx"
    s=$(set_sql "$set"); [ -z "$s" ] || sql "$U" -c "$s"
    sql "$U" -c "VACUUM ANALYZE job_queue" -c "CHECKPOINT"
    p=$("$PGBENCH" -n -M extended -f "$D/search-enqueue.pgbench" -t $(( N / 100 )) -c 1 "$U" 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
    sql "$U" -c "VACUUM ANALYZE job_queue" -c "CHECKPOINT"
    c=$("$PGBENCH" -n -M extended -f "$D/claim_complete.pgbench" -D queue=bench -D batch=100 -c 2 -j 2 -t $(( N / 200 )) "$U" 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
    done=$(sql "$U" -c "SELECT count(*) FROM job_queue WHERE status = 'completed'")
    echo "$round $set $(awk -v a="${p:-0}" 'BEGIN{printf "%.0f", a*100}') $(awk -v a="${c:-0}" 'BEGIN{printf "%.0f", a*100}') $(cut -d' ' -f1 /proc/loadavg) done=$done"
  done
done
