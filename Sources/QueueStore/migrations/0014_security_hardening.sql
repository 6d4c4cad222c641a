-- 0014 — the columns and data changes of issue 16's SQL-layer security fixes. The functions that
-- use them are changed in their canonical files (migrations/repeatable/), which run after this
-- file in the same transaction.

-- Who enqueued each job: the database login role (session_user, which SECURITY DEFINER does not
-- change). job_status() shows a producer its own jobs only. Added without a default first, so
-- the jobs already queued carry NULL (nobody's) instead of the installer's name, then the
-- default is set; neither statement rewrites the table.
alter table job_queue add column enqueued_by text;
alter table job_queue alter column enqueued_by set default session_user;

-- The audit actor is the database role. Until now it came from the session setting
-- queuetop.actor, which any client can set to anything ('SET queuetop.actor = ''ceo'''). What
-- the client says about itself (the CLI and the dashboard send the OS user@host) is kept, but
-- only in client_label, an unverified claim shown as such; actor is session_user.
alter table audit_log add column client_label text;
alter table audit_log alter column client_label set default nullif(current_setting('queuetop.actor', true), '');
alter table audit_log alter column actor set default session_user;
-- Rows written so far: their actor was the client's claim. Move it to client_label and name the
-- role that really acted. (audit_log is append-only for everyone but its owner, who runs this.)
update audit_log set client_label = actor, actor = db_role where actor is distinct from db_role;

-- bulk_operations.created_by came from the same setting: from now on it is the role as well
-- (55_leads.sql); earlier rows keep what they said.

-- Credentials in alert-hook URLs were readable by every viewer with a plain SELECT. add_alert_hook
-- now refuses them (75_alerts.sql); the ones already stored lose their userinfo (scheme, host,
-- port, path and query stay). A hook that needs authentication uses a secret header.
update alert_hooks
set url = regexp_replace(url, '^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@', '\1')
where url ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*@';

-- A hook's secret names an environment variable of the worker that delivers it. An operator
-- could name PGPASSWORD or the worker's own settings and have the value posted to any URL:
-- add_alert_hook refuses such names now, and hooks that already use one are disabled.
update alert_hooks
set enabled = false
where secret_env is not null
  and (secret_env !~ '^[A-Z_][A-Z0-9_]*$' or secret_env ~ '^PG' or secret_env ~ '^QUEUETOP_');
