-- Webhooks: deliveries seen (Bird's request id, or the digest of a Partoo body), so a
-- delivery seen again is acknowledged without being applied twice; and authentic bodies
-- that did not decode, kept raw with where they failed (a webhook may name no account we
-- know, so they have a table of their own).

CREATE TABLE webhook_deliveries (
    provider     TEXT    NOT NULL,
    -- Bird's `messagebird-request-id`, or `sha256:<hex>` of a Partoo body.
    delivery_id  TEXT    NOT NULL,
    event_type   TEXT,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, delivery_id)
);

CREATE TABLE webhook_rejected (
    id             INTEGER PRIMARY KEY,
    provider       TEXT    NOT NULL,
    event_type     TEXT,
    -- SHA-256 of the raw body, hex: the same body seen again is one row.
    digest         TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    raw            TEXT    NOT NULL,
    first_seen_at  INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    UNIQUE (provider, digest)
);
