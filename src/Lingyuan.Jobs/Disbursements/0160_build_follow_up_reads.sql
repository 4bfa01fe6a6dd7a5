-- Two costs of a build that its bound (QUALITY.md: the same INSERT into a table with the same keys) does not pay,
-- measured on the 1 M bench data (ops/bench lab, 2026-12-03).
--
-- 1. The held lines by month, carrying what the back-pay pass reads. The back-pay pass reads every earlier month's
--    held lines (2 % of each batch, one per heap page or so): keyed by id, it walked the held lines of the batch
--    just built as well (filtered out afterwards by month) and fetched each from the heap, whose pages the
--    million-line insert had just dirtied (the second month: 0.93-1.2 s, 100,000 buffers read, 42,000 written by
--    the statement itself). Keyed by month, the current month is skipped in the index; with the columns it reads
--    included, earlier (vacuumed) months are read from the index alone: 60,000 held lines of three months in
--    26 ms, the whole pass 0.46 s, most of it the one lookup per held line that back-pay is.
DROP INDEX app.disbursement_lines_held;
CREATE INDEX disbursement_lines_held ON app.disbursement_lines (period, id_number, benefit) INCLUDE (id, hold_reason, amount_fen)
    WHERE status = 'held' AND NOT released;

-- 2. The insert check, aggregating the new lines first and joining the few (batch, benefit) groups to their
--    batches after. Joined first, a build's million new lines were sorted for a merge join to its one batch (builds
--    run with hash joins off): 0.53 s against 0.27 s for the same statement over a million lines. Otherwise as 0080.
CREATE OR REPLACE FUNCTION app.disbursement_lines_inserted() RETURNS trigger LANGUAGE plpgsql
    -- Builds run with hash aggregation off (merge joins suit them); one hash pass over the new rows suits this.
    SET enable_hashagg = on AS $$
DECLARE bad bigint; follow_ups bigint := 0; r record;
BEGIN
    FOR r IN
        SELECT n.batch_id, b.state, n.benefit, n.payable, n.total, n.held, n.follow_ups
        FROM (SELECT batch_id, benefit,
                     count(*) FILTER (WHERE status = 'payable') AS payable,
                     coalesce(sum(amount_fen) FILTER (WHERE status = 'payable'), 0) AS total,
                     count(*) FILTER (WHERE status = 'held') AS held,
                     count(*) FILTER (WHERE refers_to IS NOT NULL) AS follow_ups
              FROM new_lines GROUP BY batch_id, benefit) n
        LEFT JOIN app.disbursement_batches b ON b.id = n.batch_id
    LOOP
        IF r.state IS NULL THEN
            RAISE EXCEPTION 'disbursement line refers to a batch that does not exist' USING ERRCODE = 'foreign_key_violation';
        ELSIF r.state <> 'draft' THEN
            RAISE EXCEPTION 'batch % is %: lines are added only while it is a draft', r.batch_id, r.state USING ERRCODE = 'raise_exception';
        END IF;
        UPDATE app.disbursement_batches
        SET payable_count = payable_count + r.payable, payable_total_fen = payable_total_fen + r.total, held_count = held_count + r.held
        WHERE id = r.batch_id;
        IF r.payable > 0 THEN
            INSERT INTO app.disbursement_batch_benefits AS t (batch_id, benefit, payable_count, payable_total_fen)
            VALUES (r.batch_id, r.benefit, r.payable, r.total)
            ON CONFLICT (batch_id, benefit) DO UPDATE
            SET payable_count = t.payable_count + EXCLUDED.payable_count, payable_total_fen = t.payable_total_fen + EXCLUDED.payable_total_fen;
        END IF;
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
