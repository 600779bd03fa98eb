-- The outbox: messages to send, written in one statement with their draft, then sent by a
-- sender that leases due rows. A row is never sent twice: a send that may have gone out
-- (`uncertain`) is looked for at the provider before it is sent again.

CREATE TABLE outbox (
    -- A v4 UUID: the send's id, and Bird's `reference` of the message.
    id                  TEXT    PRIMARY KEY,
    -- The inbox source that sends it, and its provider (`partoo`, `bird`).
    source              TEXT    NOT NULL,
    provider            TEXT    NOT NULL,
    conversation_id     TEXT    NOT NULL,
    -- The draft, as JSON.
    draft               TEXT    NOT NULL,
    -- pending | sending | sent | failed
    status              TEXT    NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    -- When the latest attempt started: where a lookup for its message starts.
    attempt_started_at  INTEGER,
    -- 1 when the latest attempt may have gone out: look before sending again.
    uncertain           INTEGER NOT NULL DEFAULT 0,
    lease_owner         TEXT,
    lease_until         INTEGER,
    last_error          TEXT,
    -- What the last refusal means (unauthorized, forbidden, not_found, closed,
    -- invalid_payload, invalid, other), when it failed for good.
    refusal             TEXT,
    -- The provider's id of the message, once sent.
    message_id          TEXT,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER
);

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_message ON outbox (source, message_id);
