-- Pay and hold by the corrected rules of DOMAIN.md §2 (issue #17): whose account, why a line is held, the
-- amount a change is measured against, and the release of an amount-change hold by a person.

-- The card register names the holder of the card's bank account (the bank's record). NULL: the card's own
-- holder (id_number) — the normal case. Another person's ID here (a spouse's included) holds the line.
ALTER TABLE app.cards ADD COLUMN account_holder char(18) CONSTRAINT cards_account_holder_format CHECK (account_holder ~ '^[0-9]{17}[0-9X]$');

-- Suspension for imprisonment (服刑期间停发) is a suspension of its own: its months are not back-paid
-- (劳社厅函〔2001〕44号). It ends with a 'resumed' event like any suspension.
ALTER TABLE app.life_events DROP CONSTRAINT life_events_event_check;
ALTER TABLE app.life_events ADD CONSTRAINT life_events_event_check
    CHECK (event IN ('death', 'eligibility_verified', 'suspended', 'resumed', 'imprisoned'));

-- The hold reasons of Disbursements/HoldReasons.cs (tests/…/Disbursements/HoldReasonFacts checks this list against it).
ALTER TABLE app.disbursement_lines DROP CONSTRAINT disbursement_lines_hold_reason_check;
ALTER TABLE app.disbursement_lines ADD CONSTRAINT disbursement_lines_hold_reason_check
    CHECK (hold_reason IN ('dead', 'imprisoned', 'unemployment_stopped', 'suspended', 'incompatible_benefit', 'no_person', 'no_card',
                           'card_inactive', 'eligibility_lapsed', 'not_own_account', 'duplicate_account', 'amount_change'));

-- The amount a regular line was measured against for the amount-change rule: the last amount paid (or released
-- by a person) for the same person and benefit, carried forward through held months. NULL: nothing earlier
-- (lines built before this column fall back to their own amount, as the rule read then).
ALTER TABLE app.disbursement_lines ADD COLUMN basis_fen bigint CHECK (basis_fen >= 0);

-- A finance user's release of an amount-change hold (DOMAIN.md §2): who, why, when. The release accepts the new
-- amount: the held month is back-paid by the next build and later months are measured against it. Append-only.
-- No foreign key to the lines: the release slice reads the line (live, held, amount_change) in the same
-- transaction, and lines are never deleted.
CREATE TABLE app.disbursement_hold_releases (
    line_id     bigint PRIMARY KEY,
    released_by text NOT NULL CHECK (released_by <> ''),
    reason      text NOT NULL CHECK (reason <> ''),
    released_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER disbursement_hold_releases_append_only BEFORE UPDATE OR DELETE ON app.disbursement_hold_releases
    FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
