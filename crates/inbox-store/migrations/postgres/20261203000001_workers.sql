-- Workers (`inbox worker`): the accounts they keep synced, named as the accounts file names
-- them, with what their last job did and when the next one is due; and the worker
-- processes, with their heartbeats. The queue decides who runs what (graphile_worker on
-- PostgreSQL, the in-process scheduler on SQLite); these rows say what happened, for
-- `inbox status`, and let the in-process scheduler keep its plan across restarts.

CREATE TABLE scheduled_accounts (
    name              TEXT    PRIMARY KEY,
    provider          TEXT    NOT NULL,
    -- The account once a job has resolved it (its identity comes from the provider).
    account_id        BIGINT  REFERENCES accounts (id),
    next_due_at       BIGINT,
    -- Jobs failed in a row (0 after a success).
    failures          BIGINT  NOT NULL DEFAULT 0,
    jobs              BIGINT  NOT NULL DEFAULT 0,
    last_started_at   BIGINT,
    last_finished_at  BIGINT,
    last_success_at   BIGINT,
    -- The last failure, kept after a later success (then `failures` is 0).
    last_error        TEXT,
    last_run_id       BIGINT  REFERENCES sync_runs (id),
    -- The worker running its job now.
    running_on        TEXT,
    created_at        BIGINT  NOT NULL
);

CREATE TABLE workers (
    id            TEXT    PRIMARY KEY,
    host          TEXT    NOT NULL,
    pid           BIGINT  NOT NULL,
    -- `postgres` (graphile_worker) or `local` (the in-process scheduler).
    queue         TEXT    NOT NULL,
    concurrency   BIGINT  NOT NULL,
    started_at    BIGINT  NOT NULL,
    heartbeat_at  BIGINT  NOT NULL,
    stopped_at    BIGINT,
    jobs_done     BIGINT  NOT NULL DEFAULT 0,
    jobs_failed   BIGINT  NOT NULL DEFAULT 0
);
