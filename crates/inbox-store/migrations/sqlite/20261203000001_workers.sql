-- Workers (`inbox worker`): the accounts they keep synced, named as the accounts file names
-- them, with what their last job did and when the next one is due; and the worker
-- processes, with their heartbeats. The queue decides who runs what (graphile_worker on
-- PostgreSQL, the in-process scheduler on SQLite); these rows say what happened, for
-- `inbox status`, and let the in-process scheduler keep its plan across restarts.

CREATE TABLE scheduled_accounts (
    name              TEXT    PRIMARY KEY,
    provider          TEXT    NOT NULL,
    -- The account once a job has resolved it (its identity comes from the provider).
    account_id        INTEGER REFERENCES accounts (id),
    next_due_at       INTEGER,
    -- Jobs failed in a row (0 after a success).
    failures          INTEGER NOT NULL DEFAULT 0,
    jobs              INTEGER NOT NULL DEFAULT 0,
    last_started_at   INTEGER,
    last_finished_at  INTEGER,
    last_success_at   INTEGER,
    -- The last failure, kept after a later success (then `failures` is 0).
    last_error        TEXT,
    last_run_id       INTEGER REFERENCES sync_runs (id),
    -- The worker running its job now.
    running_on        TEXT,
    created_at        INTEGER NOT NULL
);

CREATE TABLE workers (
    id            TEXT    PRIMARY KEY,
    host          TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    -- `postgres` (graphile_worker) or `local` (the in-process scheduler).
    queue         TEXT    NOT NULL,
    concurrency   INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    stopped_at    INTEGER,
    jobs_done     INTEGER NOT NULL DEFAULT 0,
    jobs_failed   INTEGER NOT NULL DEFAULT 0
);
