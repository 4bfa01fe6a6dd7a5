-- A batch's lines by id carry the amount and status the reconciliation reads: reading a million payable lines
-- (id, amount) from this index alone cost the server 0.35-0.50 s of CPU against 0.68 s through the heap (ops/bench
-- lab, 2026-12-03, three pairs), CPU the return file's COPY needs on a two-core machine. The index was there
-- already for the batch's lines; the build writes 16 bytes more per line into it.
DROP INDEX app.disbursement_lines_batch;
CREATE INDEX disbursement_lines_batch ON app.disbursement_lines (batch_id, id) INCLUDE (amount_fen, status);
