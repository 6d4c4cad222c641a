-- 0032 — a paused queue says who paused it and when (walk3 item 1): the queue detail and
-- `queuetop status` print "paused by ana 12m ago", `status --json` paused_by and paused_at.
-- The trigger queues_paused_by (repeatable/20_jobs.sql) keeps both: set when paused turns on,
-- by whichever path (pause_queue, update_queue_settings, an owner's UPDATE), cleared on resume.
--
--   paused_by  the login role that paused the queue (session_user, like audit_log.actor)
--   paused_at  when it did

alter table queues
    add column paused_by text,
    add column paused_at timestamptz;

-- The trigger keeps the two columns from being written by hand, this backfill included; the
-- repeatable files, which run again after every versioned migration, put it back.
-- (Not "drop trigger if exists": on a fresh install it is not there yet, and the NOTICE that
-- would print reads as a fault in `queuetop migrate`.)
do $$
begin
  if exists (select 1 from pg_trigger where tgname = 'queues_paused_by' and tgrelid = 'queues'::regclass) then
    drop trigger queues_paused_by on queues;
  end if;
end $$;

-- Queues paused before this migration: the latest queue.pause (or settings with paused true)
-- audit row of the queue names who, if the audit log still has it. Otherwise both stay null,
-- and the screens say "paused" alone, as they did.
update queues q
   set paused_by = a.actor, paused_at = a.at
  from (select distinct on (filter ->> 'queue') filter ->> 'queue' as queue, coalesce(actor, db_role) as actor, at
          from audit_log
         where action = 'queue.pause'
            or (action = 'queue.settings' and filter -> 'settings' -> 'paused' = 'true')
         order by filter ->> 'queue', at desc, id desc) a
 where q.paused and a.queue = q.name;
