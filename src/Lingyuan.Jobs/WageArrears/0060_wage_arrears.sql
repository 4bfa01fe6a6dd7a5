-- Wage-arrears joint-punishment list (拖欠农民工工资失信联合惩戒对象名单, 人社部令第45号; DOMAIN.md §4).
-- One procedure row per arrears case whose payment deadline passed unpaid; every transition is a
-- conditional UPDATE on `state` plus an append-only event, so a rerun or a second worker changes nothing twice.
CREATE TABLE app.arrears_procedures (
    case_no                        text PRIMARY KEY REFERENCES app.arrears_cases (case_no),
    state                          text NOT NULL CHECK (state IN ('screened_out', 'candidate', 'notice_sent', 'listed', 'not_listed', 'removed')),
    -- The listing test (art. 5) and the branch that decided it, as of tested_on.
    listable                       boolean NOT NULL,
    test_rule                      text NOT NULL CHECK (test_rule IN ('single_worker', 'multi_worker', 'incident', 'below_thresholds')),
    tested_on                      date NOT NULL,
    candidate_on                   date,
    notice_sent_on                 date,
    statement_due_on               date,
    statement_due_calendar_missing boolean NOT NULL DEFAULT false,
    statement_received_on          date,
    decision_due_on                date,
    decision_due_calendar_missing  boolean NOT NULL DEFAULT false,
    decided_on                     date,
    decided_by                     text,
    decision_reason                text,
    -- Listed from decided_on; removed on listed_until (the day ListingYears after the decision).
    listed_until                   date,
    removed_on                     date,
    removal_kind                   text CHECK (removal_kind IN ('expired', 'repaired', 'overturned')),
    removal_reason                 text,
    reminded_on                    date,
    updated_at                     timestamptz NOT NULL DEFAULT now(),
    CHECK (listable = (test_rule <> 'below_thresholds')),
    CHECK (state <> 'screened_out' OR NOT listable),
    CHECK (state NOT IN ('candidate', 'notice_sent', 'listed', 'removed') OR listable),
    CHECK (state IN ('screened_out', 'candidate') OR (notice_sent_on IS NOT NULL AND statement_due_on IS NOT NULL AND decision_due_on IS NOT NULL)),
    -- No decision before the statement period (陈述申辩) has ended.
    CHECK (state NOT IN ('listed', 'not_listed', 'removed') OR (decided_on IS NOT NULL AND decided_on > statement_due_on AND decision_reason <> '')),
    CHECK (state NOT IN ('listed', 'removed') OR listed_until > decided_on),
    CHECK ((state = 'removed') = (removed_on IS NOT NULL)),
    CHECK (state <> 'removed' OR (removal_kind IS NOT NULL AND removal_reason <> '' AND removed_on >= decided_on)),
    CHECK (removal_kind <> 'expired' OR removed_on >= listed_until)
);
CREATE INDEX arrears_procedures_state ON app.arrears_procedures (state);

CREATE TABLE app.arrears_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_no  text NOT NULL REFERENCES app.arrears_cases (case_no),
    kind     text NOT NULL CHECK (kind IN ('screened_out', 'candidate', 'retested', 'notice_sent', 'statement_received',
                                           'listed', 'not_listed', 'removed', 'repair_refused')),
    on_date  date NOT NULL,
    actor    text NOT NULL,
    details  text,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX arrears_events_case ON app.arrears_events (case_no, id);
CREATE TRIGGER arrears_events_append_only BEFORE UPDATE OR DELETE ON app.arrears_events
    FOR EACH ROW EXECUTE FUNCTION app.refuse_change();

-- Which listing and removal events went out in which daily partner digest (one digest per day).
CREATE TABLE app.arrears_digest_items (
    event_id  bigint PRIMARY KEY REFERENCES app.arrears_events (id),
    digest_on date NOT NULL
);
CREATE INDEX arrears_digest_items_day ON app.arrears_digest_items (digest_on);

-- Every notice and decision as issued, printable; the outbox message carries the same dedupe key.
CREATE TABLE app.arrears_documents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_no    text REFERENCES app.arrears_cases (case_no),
    kind       text NOT NULL CHECK (kind IN ('pre_listing_notice', 'listing_decision', 'not_listed_decision', 'removal_notice',
                                             'staff_reminder', 'partner_digest')),
    issued_on  date NOT NULL,
    title      text NOT NULL,
    html       text NOT NULL,
    dedupe_key text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((case_no IS NULL) = (kind = 'partner_digest'))
);
CREATE INDEX arrears_documents_case ON app.arrears_documents (case_no);
CREATE TRIGGER arrears_documents_append_only BEFORE UPDATE OR DELETE ON app.arrears_documents
    FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
