-- 0016 — a worker can be quiet: it keeps running the jobs it holds but claims no new ones until
-- an operator resumes it (quiet_workers / resume_workers, 60_workers.sql). The state lives in
-- workers.status next to 'draining', so a worker learns of it from the registry heartbeat it
-- already reads every second, and a worker that was disconnected sees it when it comes back.
--
-- The check constraint is found by what it checks rather than by name: installs applied by hand
-- (the seeds) may have named it differently.
do $$
declare c text;
begin
  for c in
    select conname from pg_constraint
    where conrelid = 'workers'::regclass and contype = 'c' and pg_get_constraintdef(oid) like '%status%'
  loop
    execute format('alter table workers drop constraint %I', c);
  end loop;
end $$;

alter table workers add constraint workers_status_check
  check (status in ('running', 'quiet', 'draining', 'stopped', 'dead'));
