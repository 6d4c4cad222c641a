-- 0022 — the incident timeline (issue 22, item 3): deploy marks, and every alert transition
-- recorded whether or not a hook is listening. The functions that write and read them live in
-- their canonical file, migrations/repeatable/85_timeline.sql (docs/TIMELINE.md).

-- A mark an app, CI or an operator puts on the timeline ("deploy v42"). Who made it is the login
-- role (session_user, which no client can set); what the client said about itself is only a label.
create table timeline_marks (
  id           bigserial primary key,
  at           timestamptz not null default now(),
  kind         text not null check (kind ~ '^[a-z][a-z0-9_-]{0,31}$'),
  label        text not null check (char_length(label) between 1 and 200),
  db_role      text not null default session_user,
  client_label text check (char_length(client_label) <= 200)
);
create index timeline_marks_at_idx on timeline_marks (at desc);

-- Alert transitions as the timeline shows them. alert_states (0008) holds what the hooks were last
-- told and is forgotten while no hook is enabled; these two tables do not depend on hooks.
create table alert_timeline_states (
  alert_key text primary key,
  alert     jsonb not null,
  since     timestamptz not null
);

create table alert_events (
  id        bigserial primary key,
  at        timestamptz not null,
  alert_key text not null,
  kind      text not null,
  queue     text,
  event     text not null check (event in ('firing', 'cleared')),
  alert     jsonb not null default '{}'
);
create index alert_events_at_idx on alert_events (at desc);
