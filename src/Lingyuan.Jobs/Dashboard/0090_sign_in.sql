-- Sign-in that the bureau controls (issue 14): revocable sessions, the Data Protection key ring
-- shared by every instance of one deployment, failed sign-ins for lockout, second factor and
-- password state on the account, and the channel (web/cli/job) of every audited act.

-- One row per sign-in. The cookie carries the session id; the id itself is never stored, only its
-- SHA-256, so a reader of this table cannot build a valid session.
CREATE TABLE app.user_sessions (
    id_hash       bytea PRIMARY KEY,
    -- No foreign key: a session of an account that no longer exists is simply invalid (the check
    -- joins app.users), and the sessions stay as a record of who was signed in.
    user_name     text NOT NULL,
    role          text NOT NULL,
    channel       text NOT NULL DEFAULT 'web',
    restriction   text CHECK (restriction IN ('enrol-totp', 'change-password')),
    client_address text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    revoked_reason text
);
CREATE INDEX user_sessions_user ON app.user_sessions (user_name) WHERE revoked_at IS NULL;

-- ASP.NET Core Data Protection key ring (cookies, antiforgery tokens, TOTP secrets).
CREATE TABLE app.data_protection_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    friendly_name text NOT NULL UNIQUE,
    xml           text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Failed sign-ins (web and cli), counted per account and per client address for the lockout.
-- Successful sign-ins are never written here.
CREATE TABLE app.sign_in_failures (
    at             timestamptz NOT NULL DEFAULT now(),
    user_name      text NOT NULL,
    client_address text NOT NULL
);
CREATE INDEX sign_in_failures_user ON app.sign_in_failures (user_name, at);
CREATE INDEX sign_in_failures_address ON app.sign_in_failures (client_address, at);

ALTER TABLE app.users
    ADD COLUMN totp_secret          text,
    ADD COLUMN totp_last_step       bigint,
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false,
    ADD COLUMN password_changed_at  timestamptz;

-- Old rows keep NULL: their channel was not recorded.
ALTER TABLE app.audit_log ADD COLUMN channel text CHECK (channel IN ('web', 'cli', 'job'));
