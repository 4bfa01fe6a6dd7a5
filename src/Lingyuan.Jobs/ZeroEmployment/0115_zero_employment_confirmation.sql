-- Identification is a person's act (DOMAIN.md §3; 就业促进法 art. 56; 就业服务与就业管理规定 arts. 40-43):
-- the daily scan PROPOSES a household; the community caseworker (or an admin) confirms it, which makes it
-- identified and starts the clearing deadline, or rejects it with a reason. Only confirmed households
-- count in the ledger. Cases opened before this migration were identified by the service; they keep
-- their state and get proposed_on = identified_on.

ALTER TABLE app.zero_employment_cases
    ADD COLUMN proposed_on          date,
    -- The last day the caseworker was reminded of the unconfirmed proposal (ZeroEmployment:ConfirmRemindDays).
    ADD COLUMN proposal_reminded_on date,
    -- Who confirmed or rejected the proposal, when, and why (audited as zero-employment.confirm / .reject).
    ADD COLUMN decided_by           text,
    ADD COLUMN decided_at           timestamptz,
    ADD COLUMN decision_note        text,
    ADD COLUMN rejected_on          date;

ALTER TABLE app.zero_employment_cases DISABLE TRIGGER zero_employment_cases_final;
UPDATE app.zero_employment_cases SET proposed_on = identified_on;
ALTER TABLE app.zero_employment_cases ENABLE TRIGGER zero_employment_cases_final;

ALTER TABLE app.zero_employment_cases
    ALTER COLUMN proposed_on SET NOT NULL,
    ALTER COLUMN identified_on DROP NOT NULL,
    ALTER COLUMN deadline DROP NOT NULL,
    ALTER COLUMN state SET DEFAULT 'proposed',
    DROP CONSTRAINT zero_employment_cases_state_check,
    ADD CONSTRAINT zero_employment_cases_state_check
        CHECK (state IN ('proposed', 'identified', 'overdue', 'cleared', 'rejected', 'closed')),
    -- Identified (and what follows it) means confirmed: the identification day and the deadline are set.
    ADD CONSTRAINT zero_employment_cases_identified_check
        CHECK (state NOT IN ('identified', 'overdue', 'cleared') OR (identified_on IS NOT NULL AND deadline IS NOT NULL)),
    ADD CONSTRAINT zero_employment_cases_proposed_check
        CHECK (state NOT IN ('proposed', 'rejected') OR identified_on IS NULL),
    ADD CONSTRAINT zero_employment_cases_identified_after_proposal CHECK (identified_on >= proposed_on),
    ADD CONSTRAINT zero_employment_cases_rejected_check
        CHECK ((state = 'rejected') = (rejected_on IS NOT NULL AND decided_by IS NOT NULL AND decided_at IS NOT NULL AND decision_note IS NOT NULL));

-- One open case per household, a proposal included.
DROP INDEX app.zero_employment_cases_one_open;
CREATE UNIQUE INDEX zero_employment_cases_one_open ON app.zero_employment_cases (household_no) WHERE state IN ('proposed', 'identified', 'overdue');
CREATE INDEX zero_employment_cases_proposed ON app.zero_employment_cases (street, community) WHERE state = 'proposed';

-- A cleared, rejected or closed case is a record: it never changes again.
CREATE OR REPLACE FUNCTION app.zero_employment_cases_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state IN ('cleared', 'rejected', 'closed') THEN
        RAISE EXCEPTION 'zero-employment case % is % and cannot change', OLD.id, OLD.state USING ERRCODE = 'raise_exception';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;
