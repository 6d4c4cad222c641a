-- Bulk operations: a general batched-operation mechanism.
--
-- A bulk operation is a row in bulk_operations plus a registered step function that does ONE
-- batch. run_bulk_operation_batch() owns everything every kind shares: locking the operation,
-- skipping cancelled/finished ones, progress (done / remaining / last batch), completion and
-- failure. docs/BULK_OPERATIONS.md shows how to add a kind.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- A step function must be step(op bulk_operations, batch_size int) -> bulk_step_result; checking
-- at registration turns a typo into a clear error now instead of a failed operation later.
create or replace function bulk_operation_kinds_check() RETURNS trigger LANGUAGE plpgsql AS $$
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

create or replace trigger bulk_operation_kinds_check BEFORE INSERT OR UPDATE ON bulk_operation_kinds
    FOR EACH ROW EXECUTE FUNCTION bulk_operation_kinds_check();

-- Runs one batch of an operation whose row the caller has already locked FOR UPDATE.
create or replace function _bulk_run_locked_batch(v_op bulk_operations, p_batch_size int)
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
create or replace function run_bulk_operation_batch(p_operation_id bigint, p_batch_size int DEFAULT NULL)
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
create or replace function run_next_bulk_operation_batch(p_kind text DEFAULT NULL, p_batch_size int DEFAULT NULL)
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
create or replace function _bulk_cancel(p_operation_id bigint) RETURNS boolean LANGUAGE sql AS $$
    WITH c AS (
        UPDATE bulk_operations SET status = 'cancelled', cancelled_at = now(), finished_at = now()
         WHERE id = p_operation_id AND status IN ('pending', 'running')
        RETURNING id
    )
    SELECT count(*) > 0 FROM c
$$;

-- Cancels one operation; true if it was active. Repeating it is harmless (false).
create or replace function cancel_bulk_operation(p_operation_id bigint) RETURNS boolean LANGUAGE plpgsql AS $$
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

create or replace view bulk_operation_progress AS
SELECT id AS operation_id, kind, status, done, greatest(total - done, 0) AS remaining, total,
       batches, last_batch_at, last_batch_count, batch_size, created_by, created_at, started_at,
       finished_at, cancelled_at, error, params
  FROM bulk_operations;

-- Deletes up to batch_size bulk operations that finished (completed, cancelled or failed) more
-- than older_than_s seconds ago. Active operations are never touched. Call until it returns 0.
create or replace function prune_bulk_operations(older_than_s int, batch_size int) returns int
language plpgsql volatile as $$
declare n int;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  if older_than_s is null or older_than_s < 0 then
    raise exception 'older_than_s must be 0 or more, got %', coalesce(older_than_s::text, 'null')
      using errcode = '22023';
  end if;
  with victims as (
    select o.id from bulk_operations o
    where o.status in ('completed', 'cancelled', 'failed')
      and o.finished_at < now() - older_than_s * interval '1 second'
    order by o.finished_at
    limit prune_bulk_operations.batch_size  -- not bulk_operations.batch_size
    for update skip locked
  )
  delete from bulk_operations o using victims v where o.id = v.id;
  get diagnostics n = row_count;
  return n;
end $$;
