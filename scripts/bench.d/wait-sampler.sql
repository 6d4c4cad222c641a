-- What the claim-probe's backend waits on during a claim round (scripts/bench, section search):
-- every ~10 ms, pg_stat_activity's wait_event_type / wait_event of each active client backend
-- of database :'db' running a claim or a completion; CPU = active with no wait event. One
-- transaction per sample (COMMIT in the loop), so the sampler holds no snapshot across samples
-- and cannot itself keep dead rows alive. It runs in the admin database; the samples stay there.
CREATE UNLOGGED TABLE IF NOT EXISTS public.bench_wait_samples (
  tag text, at timestamptz, pid int, what text, wait_event_type text, wait_event text);
CREATE OR REPLACE PROCEDURE public.bench_sample_waits(p_tag text, p_db text, p_stop text)
LANGUAGE plpgsql AS $$
BEGIN
  -- Until the bench creates the table named p_stop (its "stop" signal), at most 30 minutes.
  FOR i IN 1..180000 LOOP
    EXIT WHEN to_regclass(p_stop) IS NOT NULL;
    INSERT INTO public.bench_wait_samples
    SELECT p_tag, clock_timestamp(), a.pid,
           CASE WHEN a.query LIKE '%claim_jobs%' THEN 'claim' ELSE 'complete' END,
           coalesce(a.wait_event_type, 'CPU'), coalesce(a.wait_event, '-')
    FROM pg_stat_activity a
    WHERE a.datname = p_db AND a.backend_type = 'client backend' AND a.state = 'active'
      AND (a.query LIKE '%claim_jobs%' OR a.query LIKE '%complete_jobs%');
    COMMIT;
    PERFORM pg_sleep(0.01);
  END LOOP;
END $$;
