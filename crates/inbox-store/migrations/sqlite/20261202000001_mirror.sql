-- The mirror: accounts, conversation summaries, messages, checkpoints, rejected items and
-- sync runs. Times are integers: nanoseconds since the Unix epoch (UTC). Flags are 0/1.
-- Never edited once landed: a change is a new migration.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    provider    TEXT    NOT NULL,
    -- The provider's own id of the account: a Bird workspace id, a Partoo organisation id.
    -- Never a key, nor anything derived from one.
    identity    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (provider, identity)
);

CREATE TABLE sync_runs (
    id                      INTEGER PRIMARY KEY,
    account_id              INTEGER NOT NULL REFERENCES accounts (id),
    started_at              INTEGER NOT NULL,
    finished_at             INTEGER,
    full_sync               INTEGER NOT NULL,
    requests                INTEGER NOT NULL DEFAULT 0,
    conversations_listed    INTEGER NOT NULL DEFAULT 0,
    conversations_changed   INTEGER NOT NULL DEFAULT 0,
    conversations_skipped   INTEGER NOT NULL DEFAULT 0,
    conversations_vanished  INTEGER NOT NULL DEFAULT 0,
    messages_new            INTEGER NOT NULL DEFAULT 0,
    messages_updated        INTEGER NOT NULL DEFAULT 0,
    messages_unchanged      INTEGER NOT NULL DEFAULT 0,
    rejected                INTEGER NOT NULL DEFAULT 0,
    failures                INTEGER NOT NULL DEFAULT 0,
    -- The first failures, one a line.
    failure_summary         TEXT
);

CREATE TABLE conversations (
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    id               TEXT    NOT NULL,
    status           TEXT,
    channel          TEXT,
    channel_id       TEXT,
    contact_name     TEXT,
    contact_address  TEXT,
    created_at       INTEGER,
    last_message_id  TEXT,
    last_message_at  INTEGER,
    -- The last-activity marker of the listing (`LastActivity::key`).
    last_activity    TEXT    NOT NULL,
    -- The provider's conversation, whole (JSON).
    origin           TEXT    NOT NULL,
    listed_at        INTEGER NOT NULL,
    -- When a complete listing no longer held it (it is kept, marked).
    vanished_at      INTEGER,
    PRIMARY KEY (account_id, id)
);

CREATE TABLE checkpoints (
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    conversation_id  TEXT    NOT NULL,
    -- The newest message (created time, id) such that every older one is stored.
    at               INTEGER,
    message_id       TEXT,
    -- The listing's marker and last message when the conversation was last read to its end.
    marker           TEXT,
    last_message_id  TEXT,
    synced_at        INTEGER NOT NULL,
    PRIMARY KEY (account_id, conversation_id)
);

CREATE TABLE messages (
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    id               TEXT    NOT NULL,
    provider         TEXT    NOT NULL,
    conversation_id  TEXT    NOT NULL,
    ts               INTEGER NOT NULL,
    updated_at       INTEGER,
    direction        TEXT    NOT NULL,
    role             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    preview          TEXT    NOT NULL,
    is_deleted       INTEGER NOT NULL,
    is_automated     INTEGER NOT NULL,
    is_draft         INTEGER NOT NULL,
    -- The status's place in the lifecycle (pending 1, failed 2, sent 3, delivered 4,
    -- read 5, deleted 6; null when unknown): what orders two states without `updated_at`.
    lifecycle        INTEGER,
    -- 1 when first stored, one more each time the row changed.
    revision         INTEGER NOT NULL,
    -- The unified JSON without its `origin`; the provider's message, whole, beside it.
    unified          TEXT    NOT NULL,
    origin           TEXT    NOT NULL,
    stored_at        INTEGER NOT NULL,
    changed_at       INTEGER NOT NULL,
    PRIMARY KEY (account_id, id)
);

CREATE INDEX messages_by_time ON messages (ts, provider, id);
CREATE INDEX messages_by_conversation ON messages (account_id, conversation_id, ts);

CREATE TABLE rejected (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    -- `message` or `conversation`.
    item             TEXT    NOT NULL,
    conversation_id  TEXT,
    -- The page of the walk (or of the listing) it came on, from 0.
    page             INTEGER,
    -- SHA-256 of the raw JSON, hex: the same item seen again is one row.
    digest           TEXT    NOT NULL,
    path             TEXT    NOT NULL,
    message          TEXT    NOT NULL,
    raw              TEXT    NOT NULL,
    sync_run_id      INTEGER REFERENCES sync_runs (id),
    first_seen_at    INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    UNIQUE (account_id, item, digest)
);

-- Full-text search over the text of every message, kept in step by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    preview,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, preview) VALUES (new.rowid, new.preview);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, preview) VALUES ('delete', old.rowid, old.preview);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF preview ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, preview) VALUES ('delete', old.rowid, old.preview);
    INSERT INTO messages_fts (rowid, preview) VALUES (new.rowid, new.preview);
END;
