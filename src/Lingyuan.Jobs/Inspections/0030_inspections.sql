-- "Double random, one public" inspection draws (DOMAIN.md §1). Plans, draws, their results,
-- cancellations and failures are records: append-only (app.refuse_change). The only mutable
-- tables are the inspection results reported back and the deadline tracking.

CREATE TABLE app.inspection_plans (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                     text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    period                   text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$'),
    streets                  text[] NOT NULL DEFAULT '{}',
    industries               text[] NOT NULL DEFAULT '{}',
    ratio_a                  smallint NOT NULL CHECK (ratio_a BETWEEN 0 AND 100),
    ratio_b                  smallint NOT NULL CHECK (ratio_b BETWEEN 0 AND 100),
    ratio_c                  smallint NOT NULL CHECK (ratio_c BETWEEN 0 AND 100),
    ratio_d                  smallint NOT NULL CHECK (ratio_d BETWEEN 0 AND 100),
    -- 劳动保障监察条例 art. 16: at least two inspectors.
    team_size                smallint NOT NULL CHECK (team_size >= 2),
    workload_cap             integer NOT NULL CHECK (workload_cap >= 1),
    rotation_lookback_months smallint NOT NULL CHECK (rotation_lookback_months >= 0),
    draw_date                date NOT NULL,
    -- The secret stays unpublished until the draw reveals it; only the commitment SHA-256(secret) is shown.
    secret                   bytea NOT NULL CHECK (length(secret) = 32),
    commitment               bytea NOT NULL CHECK (length(commitment) = 32 AND commitment = sha256(secret)),
    created_by               text NOT NULL,
    created_at               timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, period)
);

CREATE TABLE app.draws (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id          bigint NOT NULL REFERENCES app.inspection_plans (id),
    -- One draw per plan period: attempt n+1 exists only after attempt n was cancelled (trigger below).
    attempt          integer NOT NULL CHECK (attempt >= 1),
    algorithm        text NOT NULL,
    draw_date        date NOT NULL,
    snapshot         bytea NOT NULL,
    snapshot_hash    bytea NOT NULL CHECK (snapshot_hash = sha256(snapshot)),
    secret           bytea NOT NULL CHECK (length(secret) = 32),
    seed             bytea NOT NULL CHECK (length(seed) = 32),
    result_hash      bytea NOT NULL CHECK (length(result_hash) = 32),
    employer_count   integer NOT NULL,
    operator         text NOT NULL,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (plan_id, attempt)
);

CREATE TABLE app.draw_results (
    draw_id    bigint NOT NULL REFERENCES app.draws (id),
    position   integer NOT NULL CHECK (position >= 1),
    risk_class char(1) NOT NULL CHECK (risk_class IN ('A', 'B', 'C', 'D')),
    uscc       char(18) NOT NULL,
    team       text[] NOT NULL CHECK (cardinality(team) >= 2),
    PRIMARY KEY (draw_id, position),
    UNIQUE (draw_id, uscc)
);

CREATE TABLE app.draw_cancellations (
    draw_id      bigint PRIMARY KEY REFERENCES app.draws (id),
    reason       text NOT NULL CHECK (btrim(reason) <> ''),
    cancelled_by text NOT NULL,
    cancelled_at timestamptz NOT NULL DEFAULT now()
);

-- A draw the rules made impossible, with the report. Recorded once per plan and register snapshot:
-- the daily job retrying an unchanged register adds nothing.
CREATE TABLE app.draw_failures (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id       bigint NOT NULL REFERENCES app.inspection_plans (id),
    algorithm     text NOT NULL,
    snapshot_hash bytea NOT NULL,
    report        jsonb NOT NULL,
    operator      text NOT NULL,
    failed_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (plan_id, snapshot_hash)
);

CREATE FUNCTION app.draws_one_per_plan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM app.draws d
               WHERE d.plan_id = NEW.plan_id
                 AND NOT EXISTS (SELECT 1 FROM app.draw_cancellations c WHERE c.draw_id = d.id)) THEN
        RAISE EXCEPTION 'plan % has a draw that is not cancelled', NEW.plan_id USING ERRCODE = 'unique_violation';
    END IF;
    IF NEW.attempt <> (SELECT count(*) + 1 FROM app.draws d WHERE d.plan_id = NEW.plan_id) THEN
        RAISE EXCEPTION 'draw attempt % out of sequence for plan %', NEW.attempt, NEW.plan_id USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER draws_one_per_plan BEFORE INSERT ON app.draws FOR EACH ROW EXECUTE FUNCTION app.draws_one_per_plan();

CREATE TRIGGER inspection_plans_append_only BEFORE UPDATE OR DELETE ON app.inspection_plans FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draws_append_only BEFORE UPDATE OR DELETE ON app.draws FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draw_results_append_only BEFORE UPDATE OR DELETE ON app.draw_results FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draw_cancellations_append_only BEFORE UPDATE OR DELETE ON app.draw_cancellations FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draw_failures_append_only BEFORE UPDATE OR DELETE ON app.draw_failures FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
-- TRUNCATE bypasses row triggers.
CREATE TRIGGER inspection_plans_no_truncate BEFORE TRUNCATE ON app.inspection_plans EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draws_no_truncate BEFORE TRUNCATE ON app.draws EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draw_results_no_truncate BEFORE TRUNCATE ON app.draw_results EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draw_cancellations_no_truncate BEFORE TRUNCATE ON app.draw_cancellations EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draw_failures_no_truncate BEFORE TRUNCATE ON app.draw_failures EXECUTE FUNCTION app.refuse_change();

-- What the inspectors report back (import kind inspection-results); upserted on (draw_id, uscc).
CREATE TABLE app.inspection_results (
    draw_id      bigint NOT NULL,
    uscc         char(18) NOT NULL,
    completed_on date NOT NULL,
    finding      text NOT NULL CHECK (finding IN ('compliant', 'violation', 'rectification_ordered')),
    summary      text NOT NULL,
    published_on date,
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (draw_id, uscc),
    FOREIGN KEY (draw_id, uscc) REFERENCES app.draw_results (draw_id, uscc)
);

-- Legal deadlines per drawn employer (国发〔2019〕5号: finish within 60 working days, publish within 20).
CREATE TABLE app.inspection_deadlines (
    draw_id          bigint NOT NULL,
    uscc             char(18) NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('completion', 'publication')),
    due_on           date NOT NULL,
    calendar_missing boolean NOT NULL,
    met_on           date,
    overdue_since    date,
    PRIMARY KEY (draw_id, uscc, kind),
    FOREIGN KEY (draw_id, uscc) REFERENCES app.draw_results (draw_id, uscc)
);
CREATE INDEX inspection_deadlines_open ON app.inspection_deadlines (due_on) WHERE met_on IS NULL;
