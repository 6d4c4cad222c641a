-- Lead migrations (seed 003): the 'lead_migration' kind of bulk operation (50_bulk_operations.sql)
-- and seed 003's RPCs, which are a public contract.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- Locks and moves those of p_ids still in p_run that nobody else holds; returns the ids moved.
create or replace function _lead_migration_move(p_ids uuid[], p_run uuid, p_funnel uuid, p_column uuid)
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
create or replace function lead_migration_step(op bulk_operations, p_batch_size int)
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

-- Every lead migration, newest first; the dashboard and the health snapshot read this.
create or replace view lead_migration_progress AS
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
create or replace function _lead_migration_check_target(p_run_id uuid, p_funnel_id uuid, p_column_id uuid)
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
create or replace function queue_lead_migration(p_run_id uuid, p_funnel_id uuid, p_column_id uuid,
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
               count(*), p_batch_size, session_user
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
create or replace function process_lead_migration_batch(p_batch_size int DEFAULT 100)
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
create or replace function get_lead_migration_queue_status() RETURNS jsonb LANGUAGE sql STABLE AS $$
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
create or replace function cancel_lead_migration(p_run_id uuid) RETURNS jsonb LANGUAGE plpgsql AS $$
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
