-- Core tables of the service shell: dashboard accounts and the audit log every feature writes to.
CREATE SCHEMA IF NOT EXISTS app;

CREATE TABLE app.users (
    name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.@-]{2,64}$'),
    role          text NOT NULL CHECK (role IN ('admin', 'operator', 'finance', 'inspection')),
    password_hash text NOT NULL,
    display_name  text,
    email         text,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Who did what and when, with the state before and after. Append-only.
CREATE TABLE app.audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL,
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    before       jsonb,
    after        jsonb,
    details      text
);
CREATE INDEX audit_log_subject ON app.audit_log (subject_type, subject_id);
CREATE INDEX audit_log_at ON app.audit_log (at);

-- Rows that are records (audit, draws, approved batches, decisions) refuse change.
CREATE FUNCTION app.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table %.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'raise_exception';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON app.audit_log
    FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
