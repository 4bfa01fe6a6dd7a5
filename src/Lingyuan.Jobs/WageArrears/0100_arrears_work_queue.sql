-- Issue 16: the wage-arrears list as a work queue (人社部令第45号; DOMAIN.md §4). The daily job finds,
-- tests and computes; every legal act is a named person's: issuing the notice, recording its service (送达),
-- checking a statement, proposing a decision, a decider's approval (four eyes), the extension of the
-- decision deadline, early removal (arts. 12-14) and its revocation (art. 15). Who is listed is fixed at
-- decision (app.arrears_listed_parties). Amounts per worker come from the arrears-workers register file.

-- Every CHECK of the procedure, event and document tables is replaced (the unnamed ones of 0060 included).
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
             WHERE contype = 'c' AND conrelid IN ('app.arrears_procedures'::regclass, 'app.arrears_events'::regclass, 'app.arrears_documents'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tbl, c.conname);
    END LOOP;
END $$;

ALTER TABLE app.arrears_procedures
    -- Which evidence the single-worker branch could be tested on: worker rows, a one-worker case's totals, or none.
    ADD COLUMN single_worker_basis          text NOT NULL DEFAULT 'case_totals',
    ADD COLUMN notice_sent_by               text,
    ADD COLUMN notice_channel               text,
    ADD COLUMN served_on                    date,
    ADD COLUMN service_method               text,
    ADD COLUMN service_evidence             text,
    ADD COLUMN service_recorded_by          text,
    ADD COLUMN statement_summary            text,
    ADD COLUMN statement_check_due_on       date,
    ADD COLUMN statement_checked_on         date,
    ADD COLUMN statement_check_result       text,
    ADD COLUMN statement_checked_by         text,
    ADD COLUMN proposal_kind                text,
    ADD COLUMN proposal_reason              text,
    ADD COLUMN proposed_by                  text,
    ADD COLUMN proposed_on                  date,
    ADD COLUMN decision_due_original        date,
    ADD COLUMN extended_on                  date,
    ADD COLUMN extension_reason             text,
    ADD COLUMN extension_approved_by        text,
    ADD COLUMN removed_by                   text,
    ADD COLUMN revoked_on                   date,
    ADD COLUMN revoke_reason                text,
    ADD COLUMN revoked_by                   text;

-- Procedures of the old autopilot: a notice it sent counts as served the day it was sent (what that code
-- assumed); decisions it made keep the job as decider and the party as the register shows it now.
UPDATE app.arrears_procedures SET state = 'notice_served', served_on = notice_sent_on, service_method = 'email', notice_channel = 'email'
    WHERE state = 'notice_sent';
UPDATE app.arrears_procedures SET served_on = notice_sent_on, service_method = 'email', notice_channel = 'email'
    WHERE notice_sent_on IS NOT NULL AND served_on IS NULL;

ALTER TABLE app.arrears_procedures
    ADD CONSTRAINT arrears_procedures_state_check CHECK (state IN ('screened_out', 'candidate', 'notice_issued', 'notice_served', 'decision_proposed', 'listed', 'not_listed', 'removed')),
    ADD CONSTRAINT arrears_procedures_rule_check CHECK (test_rule IN ('single_worker', 'multi_worker', 'incident', 'below_thresholds')),
    ADD CONSTRAINT arrears_procedures_basis_check CHECK (single_worker_basis IN ('worker_rows', 'case_totals', 'not_testable')),
    ADD CONSTRAINT arrears_procedures_listable CHECK (listable = (test_rule <> 'below_thresholds')),
    ADD CONSTRAINT arrears_procedures_screened CHECK (state <> 'screened_out' OR NOT listable),
    ADD CONSTRAINT arrears_procedures_channel_check CHECK (notice_channel IN ('email', 'post', 'personal')),
    ADD CONSTRAINT arrears_procedures_service_check CHECK (service_method IN ('email', 'post', 'personal')),
    -- A notice issued names its channel and who issued it.
    ADD CONSTRAINT arrears_procedures_issued CHECK (state IN ('screened_out', 'candidate') OR (notice_sent_on IS NOT NULL AND notice_channel IS NOT NULL AND decision_due_on IS NOT NULL)),
    -- The statement period runs from the day after service (送达), which is never before the notice went out.
    ADD CONSTRAINT arrears_procedures_served CHECK (state IN ('screened_out', 'candidate', 'notice_issued')
        OR (served_on IS NOT NULL AND service_method IS NOT NULL AND statement_due_on > served_on)),
    ADD CONSTRAINT arrears_procedures_served_after_issue CHECK (served_on IS NULL OR served_on >= notice_sent_on),
    ADD CONSTRAINT arrears_procedures_proposal CHECK (proposal_kind IS NULL OR (proposal_kind IN ('listed', 'not_listed') AND proposal_reason <> '' AND proposed_by IS NOT NULL)),
    ADD CONSTRAINT arrears_procedures_proposed CHECK (state <> 'decision_proposed' OR proposal_kind IS NOT NULL),
    -- No decision before the statement period has ended; a decision names its reason.
    ADD CONSTRAINT arrears_procedures_decided CHECK (state NOT IN ('listed', 'not_listed', 'removed')
        OR (decided_on IS NOT NULL AND decided_on > statement_due_on AND decision_reason <> '')),
    -- Four eyes: the approver is not the proposer (decisions of the old job carry no proposer).
    ADD CONSTRAINT arrears_procedures_four_eyes CHECK (proposed_by IS NULL OR decided_by IS NULL OR decided_by <> proposed_by),
    ADD CONSTRAINT arrears_procedures_listed_until CHECK (state NOT IN ('listed', 'removed') OR listed_until > decided_on),
    ADD CONSTRAINT arrears_procedures_removed CHECK ((state = 'removed') = (removed_on IS NOT NULL)),
    ADD CONSTRAINT arrears_procedures_removal CHECK (state <> 'removed' OR (removal_kind IS NOT NULL AND removal_reason <> '' AND removed_on >= decided_on)),
    ADD CONSTRAINT arrears_procedures_removal_kind_check CHECK (removal_kind IN ('expired', 'repaired', 'overturned')),
    ADD CONSTRAINT arrears_procedures_expired CHECK (removal_kind <> 'expired' OR removed_on >= listed_until),
    -- The +20 working days (art. 8) are recorded once, with a reason and the decider who approved them.
    ADD CONSTRAINT arrears_procedures_extension CHECK ((extended_on IS NULL) = (extension_reason IS NULL)
        AND (extended_on IS NULL OR (extension_reason <> '' AND extension_approved_by IS NOT NULL AND decision_due_original IS NOT NULL))),
    ADD CONSTRAINT arrears_procedures_statement_check CHECK (statement_checked_on IS NULL OR (statement_received_on IS NOT NULL AND statement_check_result <> '')),
    ADD CONSTRAINT arrears_procedures_revoked CHECK ((revoked_on IS NULL) = (revoke_reason IS NULL));

ALTER TABLE app.arrears_events ADD CONSTRAINT arrears_events_kind_check CHECK (kind IN (
    'screened_out', 'candidate', 'retested', 'notice_sent', 'notice_issued', 'notice_served', 'statement_received', 'statement_checked',
    'decision_proposed', 'proposal_returned', 'decision_extended', 'listed', 'not_listed', 'removed', 'repair_refused',
    'removal_applied', 'removal_refused', 'removal_revoked'));

ALTER TABLE app.arrears_documents
    ADD CONSTRAINT arrears_documents_kind_check CHECK (kind IN (
        'pre_listing_notice', 'statement_check_result', 'listing_decision', 'not_listed_decision', 'early_removal_decision',
        'removal_refusal', 'removal_notice', 'staff_reminder', 'partner_digest')),
    ADD CONSTRAINT arrears_documents_case_check CHECK ((case_no IS NULL) = (kind = 'partner_digest'));

-- Who was listed, as they were on the day of the decision: the public list, the digests and the documents
-- read this row, never the employer register as it is later (art. 7; DOMAIN.md §4).
CREATE TABLE app.arrears_listed_parties (
    case_no             text PRIMARY KEY REFERENCES app.arrears_procedures (case_no),
    employer_name       text NOT NULL,
    uscc                char(18) NOT NULL,
    legal_rep_name      text NOT NULL,
    legal_rep_id_number text NOT NULL,
    responsible_persons text NOT NULL,
    fixed_on            date NOT NULL,
    fixed_at            timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER arrears_listed_parties_append_only BEFORE UPDATE OR DELETE ON app.arrears_listed_parties
    FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
INSERT INTO app.arrears_listed_parties (case_no, employer_name, uscc, legal_rep_name, legal_rep_id_number, responsible_persons, fixed_on)
SELECT p.case_no, coalesce(e.name, ''), c.uscc, coalesce(e.legal_rep_name, ''), coalesce(e.legal_rep_id_number, ''), c.responsible_persons, p.decided_on
FROM app.arrears_procedures p JOIN app.arrears_cases c ON c.case_no = p.case_no LEFT JOIN app.employers e ON e.uscc = c.uscc
WHERE p.state IN ('listed', 'removed');

-- Applications for early removal (信用修复, arts. 12-14): decided within 15 working days; a refusal has written reasons.
CREATE TABLE app.arrears_removal_applications (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_no           text NOT NULL REFERENCES app.arrears_procedures (case_no),
    applied_on        date NOT NULL,
    corrected_on      date NOT NULL,
    payment_proof     text NOT NULL CHECK (payment_proof <> ''),
    credit_promise_on date NOT NULL,
    recorded_by       text NOT NULL,
    due_on            date NOT NULL,
    due_calendar_missing boolean NOT NULL DEFAULT false,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'granted', 'refused')),
    decided_on        date,
    decided_by        text,
    refusal_reasons   text,
    reminded_on       date,
    CHECK (due_on > applied_on),
    CHECK ((status = 'pending') = (decided_on IS NULL)),
    CHECK (status <> 'refused' OR refusal_reasons <> '')
);
CREATE UNIQUE INDEX arrears_removal_applications_pending ON app.arrears_removal_applications (case_no) WHERE status = 'pending';

-- Amounts per worker (import arrears-workers): the single-worker branch is tested on each worker.
CREATE TABLE app.arrears_workers (
    case_no         text NOT NULL REFERENCES app.arrears_cases (case_no),
    worker_id       text NOT NULL CHECK (worker_id ~ '^[0-9]{6}\*{8}[0-9]{3}[0-9X]$'),
    amount_owed_fen bigint NOT NULL CHECK (amount_owed_fen >= 0),
    months_owed     integer NOT NULL CHECK (months_owed >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_no, worker_id)
);
