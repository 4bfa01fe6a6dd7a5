-- Register files uploaded on the dashboard (/hangfire/registers). The file is kept in the database, in parts of
-- 1 MiB, so whichever instance's worker runs the import job can read it (instances share only the database). The
-- file's parts are dropped once it is imported or discarded; the rejects (rows not imported, with the reason) stay
-- for download. Problem lines hold no personal data: keys are masked (211382********123X).
CREATE TABLE app.register_uploads (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    file_name     text NOT NULL,
    size_bytes    bigint NOT NULL,
    uploaded_by   text NOT NULL,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    state         text NOT NULL DEFAULT 'uploaded'
                  CHECK (state IN ('uploaded', 'checking', 'checked', 'importing', 'imported', 'failed', 'discarded')),
    -- all: every row or nothing (the CLI's default); valid: the good rows, the bad ones to the rejects (--accept-valid)
    import_mode   text CHECK (import_mode IN ('all', 'valid')),
    imported_by   text,
    -- progress of the running check or import, written about once a second by the job
    rows_read     bigint NOT NULL DEFAULT 0,
    bytes_read    bigint NOT NULL DEFAULT 0,
    upserting     boolean NOT NULL DEFAULT false,
    progress_at   timestamptz,
    -- the result of the last check (dry run) or import
    rows          bigint,
    inserted      bigint,
    updated       bigint,
    unchanged     bigint,
    rejected      bigint,
    problem_count bigint,
    problem_rows  int[] NOT NULL DEFAULT '{}',
    problem_keys  text[] NOT NULL DEFAULT '{}',
    problem_texts text[] NOT NULL DEFAULT '{}',
    -- problems of the whole file (header, encoding, a year's working days) or why the job failed
    failure       text[] NOT NULL DEFAULT '{}',
    finished_at   timestamptz
);
CREATE INDEX register_uploads_recent ON app.register_uploads (uploaded_at DESC);

CREATE TABLE app.register_upload_parts (
    upload_id bigint NOT NULL REFERENCES app.register_uploads (id) ON DELETE CASCADE,
    part      text NOT NULL CHECK (part IN ('file', 'rejects')),
    seq       int NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (upload_id, part, seq)
);
-- Stored as they come, uncompressed: pglz over a 100 MB file costs the upload seconds and saves little that matters.
ALTER TABLE app.register_upload_parts ALTER COLUMN data SET STORAGE EXTERNAL;
