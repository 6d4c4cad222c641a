-- 0029 — each tracked job type's rolling-hour latency histogram is stored on its
-- queue_type_recent row as two arrays, instead of one queue_type_latency_recent row per bucket
-- (issue 19 item 5: per-type figures without a slower refresh; docs/HEALTH.md "Per-type
-- figures"). A refresh read ~80 bucket rows per shown type through the primary key, then sorted
-- and summed them into cumulative counts; now it reads one row per shown type whose arrays are
-- already cumulative, so a percentile is a binary search (width_bucket) on them. The fold keeps
-- the arrays (health_hist_add, repeatable/40_health.sql, which runs after this file).
--
--   lat_buckets  the buckets the type saw in the rolling hour, ascending, each once
--   lat_cums     the count of samples in that bucket and every lower one (same length)
--
-- queue_type_latency_minute keeps its rows: the fold subtracts them when their minute leaves
-- the hour, and a window other than the rolling hour reads them.

alter table queue_type_recent
    add column lat_buckets smallint[] not null default '{}',
    add column lat_cums    bigint[]   not null default '{}';

-- Carry the histograms over, so the per-type figures read the same right after the upgrade.
-- A bucket whose count the old fold left at 0 or below was deleted by it; such rows are skipped.
-- A histogram row of a type without a queue_type_recent row (which the old fold never left
-- behind) has no type to attach to and goes with its table.
update queue_type_recent r
   set lat_buckets = h.buckets, lat_cums = h.cums
  from (select queue, job_type, array_agg(bucket order by bucket) as buckets,
               array_agg(cum order by bucket) as cums
          from (select queue, job_type, bucket,
                       sum(count) over (partition by queue, job_type order by bucket)::bigint as cum
                  from queue_type_latency_recent where count > 0) c
         group by 1, 2) h
 where r.queue = h.queue and r.job_type = h.job_type;

drop table queue_type_latency_recent;
