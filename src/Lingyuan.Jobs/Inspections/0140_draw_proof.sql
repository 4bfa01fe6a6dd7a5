-- A draw the public can check (issue 20) and plans that can be changed until their draw (issue 19).
-- * The secret no longer sits in plain text: new plans keep it sealed (Data Protection) until the draw
--   reveals it into app.draws.secret. Plans made before this migration keep their plain secret.
-- * created_at is the time the commitment was published (set by the service's clock).
-- * An edit withdraws the plan and schedules its replacement with a fresh commitment; both stay on record.
-- * The register snapshot is frozen (and its hash published) before the public random value exists;
--   the draw then uses the frozen snapshot and the value (algorithm ly-draw-2).

ALTER TABLE app.inspection_plans ALTER COLUMN secret DROP NOT NULL;
-- The CHECK tying the commitment to the plain secret (named by PostgreSQL, not by 0030) goes; the new one allows a sealed secret.
DO $$
DECLARE c text;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'app.inspection_plans'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%sha256(secret)%'
    LOOP
        EXECUTE format('ALTER TABLE app.inspection_plans DROP CONSTRAINT %I', c);
    END LOOP;
END $$;
ALTER TABLE app.inspection_plans ADD COLUMN sealed_secret bytea;
ALTER TABLE app.inspection_plans ADD COLUMN replaces_plan_id bigint REFERENCES app.inspection_plans (id);
ALTER TABLE app.inspection_plans ADD CONSTRAINT inspection_plans_commitment_check
    CHECK (length(commitment) = 32 AND (secret IS NULL OR commitment = sha256(secret)));
ALTER TABLE app.inspection_plans ADD CONSTRAINT inspection_plans_secret_kept_once
    CHECK ((secret IS NULL) <> (sealed_secret IS NULL));
-- A withdrawn plan's name may be used again (by its replacement): uniqueness among plans that are not
-- withdrawn is checked by the Plans slice under a lock.
ALTER TABLE app.inspection_plans DROP CONSTRAINT inspection_plans_name_period_key;
CREATE INDEX inspection_plans_name_period ON app.inspection_plans (name, period);

CREATE TABLE app.plan_withdrawals (
    plan_id      bigint PRIMARY KEY REFERENCES app.inspection_plans (id),
    reason       text NOT NULL CHECK (btrim(reason) <> ''),
    replaced_by  bigint UNIQUE REFERENCES app.inspection_plans (id),
    withdrawn_by text NOT NULL,
    withdrawn_at timestamptz NOT NULL
);

-- A register snapshot frozen for a plan, with the date of the public random value it waits for.
CREATE TABLE app.draw_snapshots (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id           bigint NOT NULL REFERENCES app.inspection_plans (id),
    algorithm         text NOT NULL,
    snapshot          bytea NOT NULL,
    snapshot_hash     bytea NOT NULL CHECK (snapshot_hash = sha256(snapshot)),
    public_source     text NOT NULL CHECK (btrim(public_source) <> ''),
    public_value_date date NOT NULL,
    frozen_by         text NOT NULL,
    frozen_at         timestamptz NOT NULL
);
CREATE INDEX draw_snapshots_plan ON app.draw_snapshots (plan_id);

ALTER TABLE app.draws ADD COLUMN snapshot_id bigint UNIQUE REFERENCES app.draw_snapshots (id);
ALTER TABLE app.draws ADD COLUMN public_value text;
ALTER TABLE app.draws ADD COLUMN public_source text;
ALTER TABLE app.draws ADD CONSTRAINT draws_public_value_from_version_2
    CHECK (algorithm = 'ly-draw-1' OR (snapshot_id IS NOT NULL AND public_value IS NOT NULL AND public_source IS NOT NULL));
ALTER TABLE app.draw_failures ADD COLUMN snapshot_id bigint UNIQUE REFERENCES app.draw_snapshots (id);

CREATE TRIGGER plan_withdrawals_append_only BEFORE UPDATE OR DELETE ON app.plan_withdrawals FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draw_snapshots_append_only BEFORE UPDATE OR DELETE ON app.draw_snapshots FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER plan_withdrawals_no_truncate BEFORE TRUNCATE ON app.plan_withdrawals EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER draw_snapshots_no_truncate BEFORE TRUNCATE ON app.draw_snapshots EXECUTE FUNCTION app.refuse_change();
