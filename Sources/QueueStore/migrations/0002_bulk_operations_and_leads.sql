-- 0002: a general batched-operation mechanism, and lead migrations (seed 003) built on it.
--
-- A bulk operation is a row in bulk_operations plus a registered step function that does ONE
-- batch. run_bulk_operation_batch() owns everything every kind shares: locking the operation,
-- skipping cancelled/finished ones, progress (done / remaining / last batch), completion and
-- failure. docs/BULK_OPERATIONS.md shows how to add a kind.
--
-- Applies after 0001 (uses its record_audit, enqueue_job, _check_batch_size, uuid_v7 and
-- job_queue), inside one transaction, by the migration runner (or `psql -1 -f`). Plain SQL, no
-- psql meta-commands.

-- ---------------------------------------------------------------------------------------------
-- The mechanism
-- ---------------------------------------------------------------------------------------------

-- What a step function returns: rows it handled in this batch, its new cursor (opaque to the
-- runner) and whether the operation has nothing left to do.
CREATE TYPE bulk_step_result AS (rows_done bigint, cursor jsonb, finished boolean);

-- What run_bulk_operation_batch returns: the batch's outcome and the operation's progress after it.
CREATE TYPE bulk_batch_result AS (
    operation_id bigint, kind text, rows_done bigint, status text,
    done bigint, total bigint, remaining bigint
);

CREATE TABLE bulk_operation_kinds (
    kind          text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
    -- Dispatch goes through this OID, never through a caller-supplied name.
    step_function regproc NOT NULL,
    description   text NOT NULL DEFAULT ''
);

CREATE TABLE bulk_operations (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL REFERENCES bulk_operation_kinds (kind),
    params           jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'completed', 'cancelled', 'failed')),
    total            bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
    done             bigint NOT NULL DEFAULT 0 CHECK (done >= 0),
    cursor           jsonb,
    batch_size       int NOT NULL DEFAULT 100 CHECK (batch_size BETWEEN 1 AND 100000),
    batches          int NOT NULL DEFAULT 0,
    last_batch_at    timestamptz,
    last_batch_count bigint,
    created_by       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    cancelled_at     timestamptz,
    error            text
);
-- "Next operation to run": small, because finished operations leave it.
CREATE INDEX bulk_operations_active ON bulk_operations (kind, last_batch_at NULLS FIRST, id)
    WHERE status IN ('pending', 'running');
CREATE INDEX bulk_operations_kind_created ON bulk_operations (kind, created_at DESC);
-- "Finished recently" (dashboards): with the index above, finished history is never scanned whole.
CREATE INDEX bulk_operations_kind_finished ON bulk_operations (kind, finished_at);

-- A step function must be step(op bulk_operations, batch_size int) -> bulk_step_result; checking
-- at registration turns a typo into a clear error now instead of a failed operation later.
CREATE FUNCTION bulk_operation_kinds_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_args oidvector;
    v_ret  oid;
BEGIN
    SELECT proargtypes, prorettype INTO v_args, v_ret FROM pg_proc WHERE oid = NEW.step_function;
    IF v_args IS DISTINCT FROM format('%s %s', 'bulk_operations'::regtype::oid, 'integer'::regtype::oid)::oidvector
       OR v_ret <> 'bulk_step_result'::regtype THEN
        RAISE EXCEPTION 'step function % for bulk operation kind "%" has the wrong signature',
            NEW.step_function, NEW.kind
            USING ERRCODE = '42P13',
                  HINT = 'Declare it as f(op bulk_operations, batch_size int) RETURNS bulk_step_result.';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bulk_operation_kinds_check BEFORE INSERT OR UPDATE ON bulk_operation_kinds
    FOR EACH ROW EXECUTE FUNCTION bulk_operation_kinds_check();

-- Runs one batch of an operation whose row the caller has already locked FOR UPDATE.
CREATE FUNCTION _bulk_run_locked_batch(v_op bulk_operations, p_batch_size int)
RETURNS bulk_batch_result LANGUAGE plpgsql AS $$
DECLARE
    v_step  regproc;
    v_res   bulk_step_result;
    v_state text;
    v_size  int := coalesce(p_batch_size, v_op.batch_size);
BEGIN
    IF v_op.status NOT IN ('pending', 'running') THEN
        RETURN (v_op.id, v_op.kind, 0, v_op.status, v_op.done, v_op.total,
                greatest(v_op.total - v_op.done, 0))::bulk_batch_result;
    END IF;
    PERFORM _check_batch_size(v_size, 'batch size');
    SELECT step_function INTO STRICT v_step FROM bulk_operation_kinds WHERE kind = v_op.kind;
    BEGIN
        -- regproc's text form is a quoted, qualified-when-needed name chosen by the server.
        EXECUTE format('SELECT * FROM %s($1, $2)', v_step) INTO v_res USING v_op, v_size;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
        -- Deadlocks, serialization failures, lock and statement timeouts: the batch rolled back
        -- and the caller may simply try again. Anything else will not get better by retrying.
        IF v_state LIKE '40%' OR v_state IN ('55P03', '57014') THEN
            RAISE;
        END IF;
        UPDATE bulk_operations
           SET status = 'failed', error = format('%s (SQLSTATE %s)', SQLERRM, v_state),
               finished_at = now(), started_at = coalesce(started_at, now())
         WHERE id = v_op.id
        RETURNING * INTO v_op;
        PERFORM pg_notify('queuetop_changed', 'bulk_operation');
        RETURN (v_op.id, v_op.kind, 0, v_op.status, v_op.done, v_op.total,
                greatest(v_op.total - v_op.done, 0))::bulk_batch_result;
    END;
    UPDATE bulk_operations
       SET status = CASE WHEN v_res.finished THEN 'completed' ELSE 'running' END,
           done = done + coalesce(v_res.rows_done, 0),
           cursor = v_res.cursor,
           batches = batches + 1,
           last_batch_at = clock_timestamp(),
           last_batch_count = coalesce(v_res.rows_done, 0),
           started_at = coalesce(started_at, now()),
           finished_at = CASE WHEN v_res.finished THEN clock_timestamp() END
     WHERE id = v_op.id
    RETURNING * INTO v_op;
    IF v_res.finished OR v_op.batches = 1 THEN
        PERFORM pg_notify('queuetop_changed', 'bulk_operation');
    END IF;
    RETURN (v_op.id, v_op.kind, coalesce(v_res.rows_done, 0), v_op.status, v_op.done, v_op.total,
            greatest(v_op.total - v_op.done, 0))::bulk_batch_result;
END $$;

-- Runs one batch of one operation. Waits for a batch of the same operation already in flight
-- (the row lock), so two processors never run the same operation at once. p_batch_size NULL
-- means the operation's own batch size. A cancelled/finished operation returns rows_done 0.
CREATE FUNCTION run_bulk_operation_batch(p_operation_id bigint, p_batch_size int DEFAULT NULL)
RETURNS bulk_batch_result LANGUAGE plpgsql AS $$
DECLARE
    v_op bulk_operations;
BEGIN
    SELECT * INTO v_op FROM bulk_operations WHERE id = p_operation_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown bulk operation %', p_operation_id
            USING ERRCODE = 'P0002', HINT = 'SELECT id, kind, status FROM bulk_operations lists them.';
    END IF;
    RETURN _bulk_run_locked_batch(v_op, p_batch_size);
END $$;

-- Runs one batch of the active operation (of p_kind, or any kind) whose last batch is oldest,
-- so concurrent operations advance in turn. SKIP LOCKED: parallel processors take different
-- operations. No row when there is nothing to do.
CREATE FUNCTION run_next_bulk_operation_batch(p_kind text DEFAULT NULL, p_batch_size int DEFAULT NULL)
RETURNS SETOF bulk_batch_result LANGUAGE plpgsql AS $$
DECLARE
    v_op bulk_operations;
BEGIN
    IF p_batch_size IS NOT NULL THEN PERFORM _check_batch_size(p_batch_size, 'batch size'); END IF;
    SELECT * INTO v_op FROM bulk_operations
     WHERE status IN ('pending', 'running') AND (p_kind IS NULL OR kind = p_kind)
     ORDER BY last_batch_at NULLS FIRST, id
     LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
        RETURN NEXT _bulk_run_locked_batch(v_op, p_batch_size);
    END IF;
END $$;

-- Marks one operation cancelled without auditing (callers audit once for what they cancelled).
-- The row lock waits for a batch in flight, which finishes; later batches do nothing.
CREATE FUNCTION _bulk_cancel(p_operation_id bigint) RETURNS boolean LANGUAGE sql AS $$
    WITH c AS (
        UPDATE bulk_operations SET status = 'cancelled', cancelled_at = now(), finished_at = now()
         WHERE id = p_operation_id AND status IN ('pending', 'running')
        RETURNING id
    )
    SELECT count(*) > 0 FROM c
$$;

-- Cancels one operation; true if it was active. Repeating it is harmless (false).
CREATE FUNCTION cancel_bulk_operation(p_operation_id bigint) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_kind text;
    v_cancelled boolean;
BEGIN
    SELECT kind INTO v_kind FROM bulk_operations WHERE id = p_operation_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown bulk operation %', p_operation_id USING ERRCODE = 'P0002';
    END IF;
    v_cancelled := _bulk_cancel(p_operation_id);
    PERFORM record_audit('bulk_operation.cancel',
        jsonb_build_object('operation_id', p_operation_id, 'kind', v_kind), v_cancelled::int);
    RETURN v_cancelled;
END $$;

CREATE VIEW bulk_operation_progress AS
SELECT id AS operation_id, kind, status, done, greatest(total - done, 0) AS remaining, total,
       batches, last_batch_at, last_batch_count, batch_size, created_by, created_at, started_at,
       finished_at, cancelled_at, error, params
  FROM bulk_operations;

-- ---------------------------------------------------------------------------------------------
-- Lead migrations (seed 003): runs, funnels, columns, leads, and the 'lead_migration' kind
-- ---------------------------------------------------------------------------------------------

-- Ids default to 0001's time-ordered uuid_v7(): a run's leads, inserted together, sit together
-- in the heap and in leads (run_id, id), so the migration's keyset walk reads pages in order.
CREATE TABLE extraction_runs (
    id         uuid PRIMARY KEY DEFAULT uuid_v7(),
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE funnels (
    id         uuid PRIMARY KEY DEFAULT uuid_v7(),
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE funnel_columns (
    id         uuid PRIMARY KEY DEFAULT uuid_v7(),
    funnel_id  uuid NOT NULL REFERENCES funnels (id) ON DELETE CASCADE,
    name       text NOT NULL,
    position   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (funnel_id, id)
);

CREATE TABLE leads (
    id         uuid PRIMARY KEY DEFAULT uuid_v7(),
    run_id     uuid NOT NULL REFERENCES extraction_runs (id) ON DELETE CASCADE,
    funnel_id  uuid,
    column_id  uuid,
    name       text NOT NULL DEFAULT '',
    email      text,
    phone      text,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    moved_at   timestamptz,
    -- A lead sits in a column of its funnel, or in none.
    FOREIGN KEY (funnel_id, column_id) REFERENCES funnel_columns (funnel_id, id),
    CHECK ((funnel_id IS NULL) = (column_id IS NULL))
) WITH (
    -- Room in every page, and no index on funnel_id/column_id, make a move a HOT update: the
    -- row stays on its page and no index entry is written. An index on (funnel_id, column_id)
    -- would halve the move rate (measured); deleting a funnel column scans leads instead.
    fillfactor = 80
);
-- The migration's keyset cursor walks this index: each batch costs O(batch), not O(run).
CREATE INDEX leads_run_id_id ON leads (run_id, id);

-- At most one active migration per run: two would race to move the same leads.
CREATE UNIQUE INDEX bulk_operations_one_lead_migration_per_run
    ON bulk_operations ((params ->> 'run_id'))
    WHERE kind = 'lead_migration' AND status IN ('pending', 'running');

-- Locks and moves those of p_ids still in p_run that nobody else holds; returns the ids moved.
CREATE FUNCTION _lead_migration_move(p_ids uuid[], p_run uuid, p_funnel uuid, p_column uuid)
RETURNS uuid[] LANGUAGE sql AS $$
    WITH moved AS (
        UPDATE leads SET funnel_id = p_funnel, column_id = p_column, moved_at = now()
         WHERE id IN (SELECT id FROM leads WHERE id = ANY (p_ids) AND run_id = p_run
                      FOR UPDATE SKIP LOCKED)
        RETURNING id
    )
    SELECT coalesce(array_agg(id), '{}') FROM moved
$$;

-- The step function of kind 'lead_migration'. Cursor: {"after": last id passed, "exhausted":
-- keyset pass finished, "skipped": ids that were locked by someone else when passed}. Each id is
-- passed once by the keyset pass and retried only while it sits in "skipped", so no lead is moved
-- twice; the runner's row lock on the operation keeps its batches one at a time.
CREATE FUNCTION lead_migration_step(op bulk_operations, p_batch_size int)
RETURNS bulk_step_result LANGUAGE plpgsql AS $$
DECLARE
    v_run       uuid := (op.params ->> 'run_id')::uuid;
    v_funnel    uuid := (op.params ->> 'funnel_id')::uuid;
    v_column    uuid := (op.params ->> 'column_id')::uuid;
    v_after     uuid := coalesce((op.cursor ->> 'after')::uuid, '00000000-0000-0000-0000-000000000000');
    v_exhausted boolean := coalesce((op.cursor ->> 'exhausted')::boolean, false);
    v_skipped   uuid[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(op.cursor -> 'skipped', '[]'))::uuid);
    v_cand      uuid[];
    v_moved     uuid[] := '{}';
    v_swept     uuid[] := '{}';
    v_room      int;
BEGIN
    IF NOT v_exhausted THEN
        -- One id more than the batch tells whether anything is left, saving an empty last batch.
        v_cand := ARRAY(SELECT id FROM leads WHERE run_id = v_run AND id > v_after
                         ORDER BY id LIMIT p_batch_size + 1);
        v_exhausted := cardinality(v_cand) <= p_batch_size;
        v_cand := v_cand[1:p_batch_size];
        IF cardinality(v_cand) > 0 THEN
            v_after := v_cand[cardinality(v_cand)];
            v_moved := _lead_migration_move(v_cand, v_run, v_funnel, v_column);
            IF cardinality(v_moved) < cardinality(v_cand) THEN
                v_skipped := v_skipped || ARRAY(SELECT unnest(v_cand) EXCEPT SELECT unnest(v_moved));
            END IF;
        END IF;
    END IF;
    -- The final sweep: retry leads that were locked when the keyset pass went by.
    v_room := p_batch_size - cardinality(v_moved);
    IF v_exhausted AND cardinality(v_skipped) > 0 AND v_room > 0 THEN
        v_swept := _lead_migration_move(v_skipped[1:v_room], v_run, v_funnel, v_column);
        -- Keep those still in the run and not yet moved (deleted or re-run leads drop out).
        v_skipped := ARRAY(SELECT id FROM leads WHERE id = ANY (v_skipped) AND run_id = v_run
                           EXCEPT SELECT unnest(v_swept));
    END IF;
    RETURN (cardinality(v_moved) + cardinality(v_swept),
            jsonb_build_object('after', v_after, 'exhausted', v_exhausted, 'skipped', to_jsonb(v_skipped)),
            v_exhausted AND cardinality(v_skipped) = 0)::bulk_step_result;
END $$;

INSERT INTO bulk_operation_kinds (kind, step_function, description)
VALUES ('lead_migration', 'lead_migration_step',
        'Moves the leads of an extraction run to a funnel column (seed 003).');

-- Every lead migration, newest first; the dashboard and the health snapshot read this.
CREATE VIEW lead_migration_progress AS
SELECT o.id AS operation_id,
       (o.params ->> 'run_id')::uuid AS run_id,
       coalesce(r.name, o.params ->> 'run_name') AS run_name,
       (o.params ->> 'funnel_id')::uuid AS funnel_id,
       (o.params ->> 'column_id')::uuid AS column_id,
       o.status, o.done AS moved, greatest(o.total - o.done, 0) AS remaining, o.total,
       o.batches, o.last_batch_at, o.last_batch_count, o.batch_size, o.created_by,
       o.created_at, o.started_at, o.finished_at, o.cancelled_at, o.error
  FROM bulk_operations o
  LEFT JOIN extraction_runs r ON r.id = (o.params ->> 'run_id')::uuid
 WHERE o.kind = 'lead_migration';

-- Clear, actionable errors for bad input; nothing has changed when they are raised.
CREATE FUNCTION _lead_migration_check_target(p_run_id uuid, p_funnel_id uuid, p_column_id uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_run_name    text;
    v_col_funnel  uuid;
BEGIN
    -- FOR NO KEY UPDATE serialises queueing per run without blocking inserts of its leads.
    SELECT name INTO v_run_name FROM extraction_runs WHERE id = p_run_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown extraction run %', coalesce(p_run_id::text, 'NULL')
            USING ERRCODE = 'P0002', HINT = 'SELECT id, name FROM extraction_runs lists the runs.';
    END IF;
    PERFORM 1 FROM funnels WHERE id = p_funnel_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown funnel %', coalesce(p_funnel_id::text, 'NULL')
            USING ERRCODE = 'P0002', HINT = 'SELECT id, name FROM funnels lists the funnels.';
    END IF;
    SELECT funnel_id INTO v_col_funnel FROM funnel_columns WHERE id = p_column_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown funnel column %', coalesce(p_column_id::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = format('SELECT id, name FROM funnel_columns WHERE funnel_id = %L lists its columns.', p_funnel_id);
    END IF;
    IF v_col_funnel <> p_funnel_id THEN
        RAISE EXCEPTION 'column % belongs to funnel %, not to funnel %', p_column_id, v_col_funnel, p_funnel_id
            USING ERRCODE = '22023',
                  HINT = format('SELECT id, name FROM funnel_columns WHERE funnel_id = %L lists its columns.', p_funnel_id);
    END IF;
    RETURN v_run_name;
END $$;

-- Seed 003's RPC. message_id is the bulk operation's id. Queueing the same run to the same
-- column again returns the active migration ("already_queued": true) instead of a second one.
CREATE FUNCTION queue_lead_migration(p_run_id uuid, p_funnel_id uuid, p_column_id uuid,
                                     p_batch_size int DEFAULT 100)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_run_name text;
    v_op       bulk_operations;
    v_job      uuid;
    v_again    boolean := false;
BEGIN
    PERFORM _check_batch_size(p_batch_size, 'batch size');
    v_run_name := _lead_migration_check_target(p_run_id, p_funnel_id, p_column_id);
    SELECT * INTO v_op FROM bulk_operations
     WHERE kind = 'lead_migration' AND status IN ('pending', 'running')
       AND params ->> 'run_id' = p_run_id::text;
    IF FOUND THEN
        IF v_op.params ->> 'funnel_id' <> p_funnel_id::text OR v_op.params ->> 'column_id' <> p_column_id::text THEN
            RAISE EXCEPTION 'run % ("%") already has a lead migration in progress (operation %) to another column',
                p_run_id, v_run_name, v_op.id
                USING ERRCODE = '55000',
                      HINT = format('Wait for it, or cancel it first: SELECT cancel_lead_migration(%L)', p_run_id);
        END IF;
        v_again := true;
    ELSE
        INSERT INTO bulk_operations (kind, params, total, batch_size, created_by)
        SELECT 'lead_migration',
               jsonb_build_object('run_id', p_run_id, 'run_name', v_run_name,
                                  'funnel_id', p_funnel_id, 'column_id', p_column_id),
               count(*), p_batch_size, nullif(current_setting('queuetop.actor', true), '')
          FROM leads WHERE run_id = p_run_id
        RETURNING * INTO v_op;
        -- The worker pool's sql handler drives it; the dedup key makes re-queueing a no-op.
        v_job := enqueue_job('lead_migrations', 'lead_migration',
                             jsonb_build_object('operation_id', v_op.id, 'batch_size', p_batch_size),
                             0, NULL, v_op.id::text, NULL);
        PERFORM record_audit('lead_migration.queue',
            jsonb_build_object('run_id', p_run_id, 'funnel_id', p_funnel_id, 'column_id', p_column_id,
                               'batch_size', p_batch_size, 'operation_id', v_op.id),
            v_op.total);
    END IF;
    RETURN jsonb_build_object(
        'success', true, 'message_id', v_op.id, 'run_id', p_run_id, 'run_name', v_run_name,
        'funnel_id', p_funnel_id, 'column_id', p_column_id,
        'message', format('Movimentação enfileirada: %s leads serão movidos', v_op.total - v_op.done),
        'operation_id', v_op.id, 'job_id', v_job, 'total', v_op.total,
        'batch_size', v_op.batch_size, 'status', v_op.status, 'already_queued', v_again);
END $$;

-- Seed 003's RPC: one batch of the lead migration whose turn it is. p_batch_size NULL uses the
-- migration's own batch size.
CREATE FUNCTION process_lead_migration_batch(p_batch_size int DEFAULT 100)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_res bulk_batch_result;
    v_op  bulk_operations;
BEGIN
    SELECT * INTO v_res FROM run_next_bulk_operation_batch('lead_migration', p_batch_size);
    IF v_res.operation_id IS NULL THEN
        RETURN jsonb_build_object('success', true, 'message_id', NULL, 'run_id', NULL,
            'run_name', NULL, 'leads_moved', 0, 'leads_remaining', 0,
            'error_message', 'Nenhuma movimentação pendente na fila');
    END IF;
    SELECT * INTO v_op FROM bulk_operations WHERE id = v_res.operation_id;
    RETURN jsonb_build_object(
        'message_id', v_op.id, 'run_id', v_op.params ->> 'run_id', 'run_name', v_op.params ->> 'run_name',
        'leads_moved', v_res.rows_done, 'leads_remaining', v_res.remaining,
        'success', v_res.status <> 'failed',
        'error_message', CASE WHEN v_res.status = 'failed' THEN v_op.error
                              ELSE format('Batch processado: %s leads movidos, %s restantes',
                                          v_res.rows_done, v_res.remaining) END,
        'status', v_res.status, 'moved', v_res.done, 'total', v_res.total);
END $$;

-- Seed 003's RPC; "messages" are the active (pending or running) lead migrations.
CREATE FUNCTION get_lead_migration_queue_status() RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'queue_name', 'lead_migration_queue',
        'total_messages', count(*),
        'oldest_message', min(created_at),
        'newest_message', max(created_at),
        'pending', count(*) FILTER (WHERE status = 'pending'),
        'running', count(*) FILTER (WHERE status = 'running'),
        'leads_remaining', coalesce(sum(greatest(total - done, 0)), 0))
      FROM bulk_operations
     WHERE kind = 'lead_migration' AND status IN ('pending', 'running')
$$;

-- Seed 003's RPC: cancels the run's active migrations. A batch in flight finishes first (the
-- UPDATE waits for its row lock); moved leads stay moved. Cancelling again reports 0.
CREATE FUNCTION cancel_lead_migration(p_run_id uuid) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_run_name text;
    v_ids      bigint[];
    v_moved    bigint;
    v_left     bigint;
BEGIN
    SELECT name INTO v_run_name FROM extraction_runs WHERE id = p_run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown extraction run %', coalesce(p_run_id::text, 'NULL')
            USING ERRCODE = 'P0002', HINT = 'SELECT run_id, run_name, status FROM lead_migration_progress lists the migrations.';
    END IF;
    WITH c AS (
        UPDATE bulk_operations SET status = 'cancelled', cancelled_at = now(), finished_at = now()
         WHERE kind = 'lead_migration' AND params ->> 'run_id' = p_run_id::text
           AND status IN ('pending', 'running')
        RETURNING id, done, total
    )
    SELECT coalesce(array_agg(id ORDER BY id), '{}'), coalesce(sum(done), 0),
           coalesce(sum(greatest(total - done, 0)), 0)
      INTO v_ids, v_moved, v_left FROM c;
    -- Their jobs need no worker any more; a job already running sees the cancel and ends.
    UPDATE job_queue SET status = 'cancelled', completed_at = now()
     WHERE queue = 'lead_migrations' AND status = 'pending'
       AND dedup_key = ANY (SELECT unnest(v_ids)::text);
    PERFORM record_audit('lead_migration.cancel', jsonb_build_object('run_id', p_run_id),
                         cardinality(v_ids));
    RETURN jsonb_build_object(
        'success', true, 'run_id', p_run_id, 'run_name', v_run_name,
        'cancelled', cardinality(v_ids), 'operation_ids', to_jsonb(v_ids),
        'leads_moved', v_moved, 'leads_not_moved', v_left,
        'message', CASE WHEN cardinality(v_ids) = 0 THEN 'Nenhuma movimentação ativa para esta run'
                        ELSE format('%s movimentação(ões) cancelada(s): %s leads movidos, %s não movidos',
                                    cardinality(v_ids), v_moved, v_left) END);
END $$;

