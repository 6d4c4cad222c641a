-- 0009 — the roles of 0007 for what 0008 added: recurring schedules and alert hooks.
--
-- 0007 made every writing function SECURITY DEFINER with a fixed search_path and granted it to
-- exactly the roles that need it; functions created later are not callable by PUBLIC (0007's
-- default privileges) and tables created later are readable by the viewer and operator roles.
-- 0008 was written alongside 0007, so its functions get the same treatment here:
--   operator: create, enable/disable, run now and delete schedules; add and remove alert hooks
--             (each writes its own audit row);
--   worker:   the schedule ticker and the alert-hook deliverer that run inside the pool;
--   viewer:   the read-only helper.
do $$
declare f regprocedure;
begin
  for f in select p.oid::regprocedure from pg_proc p
           where p.pronamespace = current_schema()::regnamespace and p.prokind = 'f'
             and p.proname in ('create_schedule', 'set_schedule_enabled', 'run_schedule_now', 'delete_schedule',
                               'lock_due_schedules', 'fire_schedule', 'disable_broken_schedule',
                               'add_alert_hook', 'remove_alert_hook', 'sync_alert_states',
                               'claim_alert_notifications', 'record_alert_delivery') loop
    execute format('alter function %s security definer set search_path = %I, pg_temp', f, current_schema());
    execute format('grant execute on function %s to %s', f,
      case when f::text ~ '^(create_schedule|set_schedule_enabled|run_schedule_now|delete_schedule|add_alert_hook|remove_alert_hook)\('
           then 'queuetop_operator'
           else 'queuetop_worker' end);
  end loop;
  for f in select p.oid::regprocedure from pg_proc p
           where p.pronamespace = current_schema()::regnamespace and p.prokind = 'f'
             and p.proname = 'alert_history_retention' loop
    execute format('grant execute on function %s to queuetop_viewer, queuetop_operator, queuetop_worker', f);
  end loop;
end $$;
