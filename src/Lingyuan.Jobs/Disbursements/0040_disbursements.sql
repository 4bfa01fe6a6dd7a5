-- Monthly benefit disbursement into social security cards (DOMAIN.md §2).
-- Money is integer fen; periods are the first day of their month.

-- One batch per period: a rejected batch stays on record but releases its period for a rebuild.
CREATE TABLE app.disbursement_batches (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period              date NOT NULL CHECK (extract(day FROM period) = 1),
    state               text NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'rejected', 'exported', 'reconciled')),
    built_by            text NOT NULL,
    built_at            timestamptz NOT NULL DEFAULT now(),
    payable_count       bigint NOT NULL DEFAULT 0 CHECK (payable_count >= 0),
    payable_total_fen   bigint NOT NULL DEFAULT 0 CHECK (payable_total_fen >= 0),
    held_count          bigint NOT NULL DEFAULT 0 CHECK (held_count >= 0),
    -- Bank outcomes recorded so far; the batch is reconciled when it reaches approved_line_count.
    outcome_count       bigint NOT NULL DEFAULT 0 CHECK (outcome_count >= 0),
    submitted_by        text,
    submitted_at        timestamptz,
    decided_by          text,
    decided_at          timestamptz,
    reject_reason       text,
    -- The frozen control totals (approval): what the bank file must reproduce exactly.
    approved_line_count bigint,
    approved_total_fen  bigint,
    approved_sha256     text CHECK (approved_sha256 ~ '^[0-9a-f]{64}$'),
    exported_at         timestamptz,
    reconciled_at       timestamptz,
    CHECK (state <> 'rejected' OR (reject_reason IS NOT NULL AND reject_reason <> '')),
    CHECK (state NOT IN ('approved', 'exported', 'reconciled')
           OR (approved_sha256 IS NOT NULL AND approved_line_count IS NOT NULL AND approved_total_fen IS NOT NULL
               AND decided_by IS DISTINCT FROM submitted_by))
);
CREATE UNIQUE INDEX disbursement_batches_one_per_period ON app.disbursement_batches (period) WHERE state <> 'rejected';

-- kind: regular (the period's own month), back_pay (a held month whose cause cleared; refers_to the
-- held line), reissue (a payment the bank returned as failed, after the card data changed;
-- refers_to the failed line). period is the month the money is for, not the batch's month.
CREATE TABLE app.disbursement_lines (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Checked per statement below rather than by a per-row foreign key (a build inserts a million lines).
    batch_id     bigint NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('regular', 'back_pay', 'reissue')),
    id_number    char(18) NOT NULL,
    benefit      text NOT NULL,
    period       date NOT NULL CHECK (extract(day FROM period) = 1),
    amount_fen   bigint NOT NULL CHECK (amount_fen >= 0),
    status       text NOT NULL CHECK (status IN ('payable', 'held')),
    hold_reason  text CHECK (hold_reason IN ('dead', 'no_person', 'no_card', 'card_inactive', 'suspended',
                                             'eligibility_lapsed', 'duplicate_account', 'amount_change')),
    -- A line of this table: checked per statement by disbursement_lines_inserted below, not by a per-row foreign
    -- key (1 M queued RI trigger events per build). Lines are never deleted nor their ids changed (guard), so
    -- checking inserts is all the foreign key did.
    refers_to    bigint,
    bank_code    text,
    bank_account text,
    account_name text,
    -- Set when the batch is rejected: the line no longer counts, the period may be built again.
    released     boolean NOT NULL DEFAULT false,
    CHECK ((status = 'held') = (hold_reason IS NOT NULL)),
    CHECK ((kind = 'regular') = (refers_to IS NULL)),
    CHECK (kind = 'regular' OR status = 'payable'),
    CHECK (status = 'held' OR (bank_code IS NOT NULL AND bank_account IS NOT NULL AND account_name IS NOT NULL))
);
CREATE INDEX disbursement_lines_batch ON app.disbursement_lines (batch_id, id);

-- No one is ever paid twice (DOMAIN.md §2): one live payable regular or back-pay line per person,
-- benefit and month across all batches. A held line is not payable, so it and its back-pay never
-- collide; a back-pay and a regular line for the same month do, and the second insert fails.
CREATE UNIQUE INDEX disbursement_lines_one_payment ON app.disbursement_lines (id_number, benefit, period)
    WHERE status = 'payable' AND kind <> 'reissue' AND NOT released;
-- A held line is back-paid once, a failed line re-issued once (a failed re-issue is itself re-issued:
-- a chain in which every link but the last failed, so at most the last one pays).
CREATE UNIQUE INDEX disbursement_lines_one_follow_up ON app.disbursement_lines (refers_to)
    WHERE refers_to IS NOT NULL AND NOT released;
CREATE INDEX disbursement_lines_held ON app.disbursement_lines (id) WHERE status = 'held' AND NOT released;

-- The bank's answer per line. One outcome per line, never changed (append-only): a failed line stays
-- failed, so its re-issue and it cannot both be paid.
-- No foreign key to the lines (1 M per-row RI checks would dominate the cost of reconciling): the
-- reconciliation admits only references it joined to a payable line of the batch in the same transaction.
CREATE TABLE app.disbursement_outcomes (
    line_id        bigint PRIMARY KEY,
    batch_id       bigint NOT NULL,
    status         text NOT NULL CHECK (status IN ('paid', 'failed')),
    amount_fen     bigint NOT NULL CHECK (amount_fen >= 0),
    bank_txn_ref   text,
    failure_code   text,
    failure_reason text,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disbursement_outcomes_failed ON app.disbursement_outcomes (line_id) WHERE status = 'failed';
CREATE TRIGGER disbursement_outcomes_append_only BEFORE UPDATE OR DELETE ON app.disbursement_outcomes
    FOR EACH ROW EXECUTE FUNCTION app.refuse_change();

-- Every INSERT into the lines, checked once per statement over its new rows (a build inserts a million lines:
-- per-row triggers and foreign keys would dominate its cost):
-- * the batch exists and is a draft: lines join a batch only while it is built (approved batches stay frozen);
-- * refers_to names an existing line (the foreign key), and a re-issue follows a line the bank returned as failed;
-- * the batch's counters (payable count and total, held count) are kept equal to its lines, whoever inserts them.
-- Lines never change batch (guard below) and batches are never deleted, so inserts are all there is to check.
CREATE FUNCTION app.disbursement_lines_inserted() RETURNS trigger LANGUAGE plpgsql
    -- Builds run with hash aggregation off (merge joins suit them); one hash pass over the new rows suits this.
    SET enable_hashagg = on AS $$
DECLARE bad bigint; follow_ups bigint := 0; r record;
BEGIN
    FOR r IN
        SELECT n.batch_id, b.state,
               count(*) FILTER (WHERE n.status = 'payable') AS payable,
               coalesce(sum(n.amount_fen) FILTER (WHERE n.status = 'payable'), 0) AS total,
               count(*) FILTER (WHERE n.status = 'held') AS held,
               count(*) FILTER (WHERE n.refers_to IS NOT NULL) AS follow_ups
        FROM new_lines n LEFT JOIN app.disbursement_batches b ON b.id = n.batch_id
        GROUP BY n.batch_id, b.state
    LOOP
        IF r.state IS NULL THEN
            RAISE EXCEPTION 'disbursement line refers to a batch that does not exist' USING ERRCODE = 'foreign_key_violation';
        ELSIF r.state <> 'draft' THEN
            RAISE EXCEPTION 'batch % is %: lines are added only while it is a draft', r.batch_id, r.state USING ERRCODE = 'raise_exception';
        END IF;
        UPDATE app.disbursement_batches
        SET payable_count = payable_count + r.payable, payable_total_fen = payable_total_fen + r.total, held_count = held_count + r.held
        WHERE id = r.batch_id;
        follow_ups := follow_ups + r.follow_ups;
    END LOOP;
    IF follow_ups > 0 THEN
        SELECT n.refers_to INTO bad FROM new_lines n
        WHERE n.refers_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app.disbursement_lines l WHERE l.id = n.refers_to) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'disbursement line refers to line % which does not exist', bad USING ERRCODE = 'foreign_key_violation';
        END IF;
        SELECT n.refers_to INTO bad FROM new_lines n
        WHERE n.kind = 'reissue'
          AND NOT EXISTS (SELECT 1 FROM app.disbursement_outcomes o WHERE o.line_id = n.refers_to AND o.status = 'failed') LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 're-issue line refers to line % which has no failed outcome', bad USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER disbursement_lines_inserted AFTER INSERT ON app.disbursement_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION app.disbursement_lines_inserted();

-- Lines never change, except being released when their batch is rejected; once a batch is approved
-- nothing about its lines changes at all (approval froze count, total and hash).
CREATE FUNCTION app.disbursement_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
    SELECT state INTO s FROM app.disbursement_batches WHERE id = OLD.batch_id;
    IF s IN ('approved', 'exported', 'reconciled') THEN
        RAISE EXCEPTION 'lines of approved batch % are frozen: % refused', OLD.batch_id, TG_OP USING ERRCODE = 'raise_exception';
    END IF;
    IF TG_OP = 'DELETE' OR (to_jsonb(OLD) - 'released') IS DISTINCT FROM (to_jsonb(NEW) - 'released') OR (OLD.released AND NOT NEW.released) THEN
        RAISE EXCEPTION 'disbursement lines are immutable (reject the batch and rebuild): % refused', TG_OP USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER disbursement_lines_guard BEFORE UPDATE OR DELETE ON app.disbursement_lines
    FOR EACH ROW EXECUTE FUNCTION app.disbursement_lines_guard();

-- The control totals of an approved batch never change.
CREATE FUNCTION app.disbursement_batches_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'disbursement batches are never deleted' USING ERRCODE = 'raise_exception';
    END IF;
    IF OLD.state IN ('approved', 'exported', 'reconciled') AND (
           NEW.period IS DISTINCT FROM OLD.period OR NEW.approved_sha256 IS DISTINCT FROM OLD.approved_sha256
        OR NEW.approved_line_count IS DISTINCT FROM OLD.approved_line_count OR NEW.approved_total_fen IS DISTINCT FROM OLD.approved_total_fen
        OR NEW.decided_by IS DISTINCT FROM OLD.decided_by OR NEW.submitted_by IS DISTINCT FROM OLD.submitted_by
        OR NEW.state NOT IN ('approved', 'exported', 'reconciled')) THEN
        RAISE EXCEPTION 'approved batch % is frozen', OLD.id USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER disbursement_batches_guard BEFORE UPDATE OR DELETE ON app.disbursement_batches
    FOR EACH ROW EXECUTE FUNCTION app.disbursement_batches_guard();

-- Payments for a month that began after the recipient's recorded death: to be recovered (追回).
CREATE TABLE app.disbursement_recoveries (
    line_id    bigint PRIMARY KEY REFERENCES app.disbursement_lines (id),
    id_number  char(18) NOT NULL,
    death_date date NOT NULL,
    amount_fen bigint NOT NULL CHECK (amount_fen >= 0),
    found_at   timestamptz NOT NULL DEFAULT now()
);
