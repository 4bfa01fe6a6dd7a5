-- The transactional outbox (ARCHITECTURE.md, Notifications): a feature writes the message in the
-- same transaction as the state change that decided it; the delivery job sends it.
CREATE TABLE app.outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key      text NOT NULL UNIQUE,
    recipients      text[] NOT NULL CHECK (cardinality(recipients) > 0),
    subject         text NOT NULL,
    text_body       text NOT NULL,
    html_body       text,
    regarding_type  text NOT NULL,
    regarding_id    text NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    last_reply      text
);
CREATE INDEX outbox_due ON app.outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_regarding ON app.outbox (regarding_type, regarding_id);

CREATE TABLE app.outbox_attachments (
    message_id   bigint NOT NULL REFERENCES app.outbox (id),
    position     integer NOT NULL,
    file_name    text NOT NULL,
    content_type text NOT NULL,
    content      bytea NOT NULL,
    PRIMARY KEY (message_id, position)
);
