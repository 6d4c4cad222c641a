-- 0030 — each per-type minute row carries its latency histogram as two arrays, instead of one
-- queue_type_latency_minute row per (queue, minute, type, bucket) (issue 19 item 5: per-type
-- figures whose cost stays flat; docs/HEALTH.md "Per-type figures", "What it costs"). Folding
-- 5,000 completions of 50 types upserted ~2,700 bucket rows into that table (~870,000 rows with
-- the bench's hour, two indexes): about 60 % of the fold's time. Now the fold writes the 50
-- queue_type_minute rows it already wrote, each with its merged histogram.
--
--   lat_buckets  the buckets the type saw in that minute, ascending, each once
--   lat_counts   the samples in each bucket (same length; per minute, so int4 suffices)
--
-- At most 227 buckets (bucket -1 .. 225 for any int4 of milliseconds), so a row stays under the
-- ~2 kB at which PostgreSQL would compress or move the arrays out of line (TOAST).

alter table queue_type_minute
    add column lat_buckets smallint[] not null default '{}',
    add column lat_counts  int[]      not null default '{}';

-- Carry the histograms over, so the slide subtracts the same counts after the upgrade. A bucket
-- row of a minute without a queue_type_minute row (which the old fold never left behind) has no
-- row to attach to and goes with its table.
update queue_type_minute m
   set lat_buckets = h.buckets, lat_counts = h.counts
  from (select queue, minute, job_type, array_agg(bucket order by bucket) as buckets,
               array_agg(count::int order by bucket) as counts
          from queue_type_latency_minute where count > 0
         group by 1, 2, 3) h
 where m.queue = h.queue and m.minute = h.minute and m.job_type = h.job_type;

drop table queue_type_latency_minute;
