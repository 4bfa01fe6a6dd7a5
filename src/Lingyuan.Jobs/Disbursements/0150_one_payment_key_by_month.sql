-- The one-payment key, month first: the same uniqueness (person, benefit, month), its columns in the order a
-- build adds them. Keyed by person first, a month's million new entries landed beside each person's earlier
-- months — on every leaf page of the index, each page's first change after a checkpoint written whole to the
-- WAL. Keyed by month first, a build appends its month at the index's right edge in the order it inserts
-- (the third month of the 1 M bench: 574 MB of WAL → 436 MB; 18.2-27.7 s → 16.6-23.4 s, each of six pairs
-- faster; ops/bench lab, 2026-12-02). Every lookup gives the month: the follow-ups give person, benefit and
-- month; the recoveries probe each month after a death.
DROP INDEX app.disbursement_lines_one_payment;
CREATE UNIQUE INDEX disbursement_lines_one_payment ON app.disbursement_lines (period, id_number, benefit)
    WHERE status = 'payable' AND kind <> 'reissue' AND NOT released;

-- Recorded deaths (few among a million life events): the recoveries after every build and reconciliation
-- start from them; without this a scan of every life event (~0.2 s at 1 M).
CREATE INDEX life_events_deaths ON app.life_events (id_number, date) WHERE event = 'death';
