-- The transactional outbox (ARCHITECTURE.md, Notifications): a feature writes the message in the
-- same transaction as the state change that decided it; OutboxDeliveryJob sends it.
CREATE TABLE app.outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key       text NOT NULL UNIQUE,
    recipients       text[] NOT NULL CHECK (cardinality(recipients) > 0),
    subject          text NOT NULL,
    text_body        text NOT NULL,
    html_body        text,
    regarding_type   text NOT NULL,
    regarding_id     text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    -- Delivery attempts that reached a verdict (sent, transient or permanent failure).
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Start of the retry horizon (Smtp:RetryHorizon): creation, or the admin's re-queue.
    retry_from       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    failed_at        timestamptz,
    -- The SMTP server's reply to the last attempt (accepted or refused), or why it could not be tried.
    last_reply       text,
    -- A message's state and its timestamps agree: sent has sent_at, failed has failed_at and a reason.
    CONSTRAINT outbox_state_consistent CHECK (
        (state = 'pending' AND sent_at IS NULL AND failed_at IS NULL)
        OR (state = 'sent' AND sent_at IS NOT NULL AND failed_at IS NULL)
        OR (state = 'failed' AND failed_at IS NOT NULL AND sent_at IS NULL AND last_reply IS NOT NULL))
);
-- The delivery job walks pending messages in id order (keyset), the page lists newest first.
CREATE INDEX outbox_pending ON app.outbox (id) WHERE state = 'pending';
CREATE INDEX outbox_state_id ON app.outbox (state, id);
CREATE INDEX outbox_regarding ON app.outbox (regarding_type, regarding_id);

CREATE TABLE app.outbox_attachments (
    message_id   bigint NOT NULL REFERENCES app.outbox (id),
    position     integer NOT NULL,
    file_name    text NOT NULL,
    content_type text NOT NULL,
    content      bytea NOT NULL,
    PRIMARY KEY (message_id, position)
);
