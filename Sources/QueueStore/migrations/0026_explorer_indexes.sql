-- 0026 — indexes for the job explorer's rare values (issue 18; docs/JOBS.md "How a search
-- stays cheap", figures in docs/BENCHMARKS-search.md). `tenant:X` for a tenant with a handful of
-- jobs and `key:X` had no index to start from: they walked the primary key through the whole
-- table, and timed out at 10 M rows. Partial, so a job without a tenant or a dedup key adds no
-- entry.
--
-- Built here only when job_queue is empty (a fresh install: instant, and a paste of
-- migrations/queuetop.sql gets them too). On a table with rows, CREATE INDEX inside this
-- transaction would block every enqueue, claim and completion for the whole build, so
-- `queuetop migrate` builds them after the install commits, with CREATE INDEX CONCURRENTLY,
-- resuming a build that was interrupted (QueueStore/OnlineIndexes.swift; the same definitions,
-- kept equal by OnlineIndexTests).
do $$
begin
  if not exists (select 1 from job_queue limit 1) then
    create index if not exists job_queue_tenant_id_idx on job_queue (tenant, id) where tenant is not null;
    create index if not exists job_queue_key_id_idx on job_queue (dedup_key, id) where dedup_key is not null;
  end if;
end $$;
