# Sourced by scripts/bench.d/search-cost-*.sh: scripts/bench's index_cost by hand, for candidate
# index sets a script names. The caller sets U (a migrated database it may empty), ROUNDS, N
# (jobs per measurement), the array `sets`, `set_sql NAME` (that set's CREATE INDEX statements)
# and DROP (every index any set creates, comma-separated), then calls index_cost_rounds.
# Each measurement: N jobs enqueued by search-enqueue.pgbench, then claimed and completed by
# claim_complete.pgbench at batch 100 with 2 clients; the sets rotate order each round. Prints
# one line per round and set; take medians.
export PGOPTIONS="-c client_min_messages=warning -c search_path=queuetop,public"
PGBENCH=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pgbench
D=scripts/bench.d
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

index_cost_rounds() {
  local round k set s p c done
  sql "$U" -c "INSERT INTO queues (name) VALUES ('bench') ON CONFLICT DO NOTHING"
  echo "round set enqueue_jobs_s claim_complete_jobs_s load"
  for round in $(seq 1 "$ROUNDS"); do
    for k in "${!sets[@]}"; do
      set=${sets[$(( (k + round - 1) % ${#sets[@]} ))]}
      sql "$U" -c "TRUNCATE job_queue CASCADE" -c "DROP INDEX IF EXISTS $DROP"
      s=$(set_sql "$set"); [ -z "$s" ] || sql "$U" -c "$s"
      sql "$U" -c "VACUUM ANALYZE job_queue" -c "CHECKPOINT"
      p=$("$PGBENCH" -n -M extended -f "$D/search-enqueue.pgbench" -t $(( N / 100 )) -c 1 "$U" 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
      sql "$U" -c "VACUUM ANALYZE job_queue" -c "CHECKPOINT"
      c=$("$PGBENCH" -n -M extended -f "$D/claim_complete.pgbench" -D queue=bench -D batch=100 -c 2 -j 2 -t $(( N / 200 )) "$U" 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
      done=$(sql "$U" -c "SELECT count(*) FROM job_queue WHERE status = 'completed'")
      echo "$round $set $(awk -v a="${p:-0}" 'BEGIN{printf "%.0f", a*100}') $(awk -v a="${c:-0}" 'BEGIN{printf "%.0f", a*100}') $(cut -d' ' -f1 /proc/loadavg) done=$done"
    done
  done
}
