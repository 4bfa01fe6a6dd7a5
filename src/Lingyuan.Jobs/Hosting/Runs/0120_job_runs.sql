-- Run records (issue #18): one row per run of a recurring job, from Hangfire or from `jobs run`,
-- with what it did (a short Chinese summary and its counters) and how it ended.
CREATE TABLE app.job_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id           text NOT NULL,
    -- Hangfire's background job id; NULL for a run started from the command line.
    hangfire_job_id  text,
    channel          text NOT NULL CHECK (channel IN ('hangfire', 'cli')),
    actor            text NOT NULL,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    -- running: not finished (or the process died); succeeded: all its work done; attention: it ran to the
    -- end but part of its work failed (a person must look); failed: it stopped with an error.
    result           text NOT NULL DEFAULT 'running' CHECK (result IN ('running', 'succeeded', 'attention', 'failed')),
    summary          text NOT NULL DEFAULT '',
    counters         jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- The technical detail of a failure (exception type and message), shown folded under the summary.
    error            text,
    CONSTRAINT job_runs_finished CHECK ((result = 'running') = (finished_at IS NULL))
);
CREATE INDEX job_runs_job_started ON app.job_runs (job_id, started_at DESC, id DESC);
CREATE INDEX job_runs_hangfire ON app.job_runs (hangfire_job_id) WHERE hangfire_job_id IS NOT NULL;

-- Alerts: a cause that needs a person (a run failed after its retries, a draw that could not be made,
-- mail that failed permanently, a backlog). Open until resolved; at most one open alert per cause.
CREATE TABLE app.job_alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cause            text NOT NULL,
    job_id           text NOT NULL,
    text_zh          text NOT NULL,
    opened_at        timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    -- When the last alert mail was queued; one mail per cause per hour at most.
    last_mailed_at   timestamptz,
    opened_by_run    bigint REFERENCES app.job_runs (id),
    resolved_at      timestamptz,
    resolved_by_run  bigint REFERENCES app.job_runs (id)
);
CREATE UNIQUE INDEX job_alerts_open_cause ON app.job_alerts (cause) WHERE resolved_at IS NULL;
CREATE INDEX job_alerts_open ON app.job_alerts (opened_at DESC) WHERE resolved_at IS NULL;
