-- Register rows for the disbursement workloads (as tests/Lingyuan.Jobs.Tests/Disbursements/DisbursementBench.cs):
-- :rows retired persons, each with a card, one entitlement from 2025-01 (past its first 12 months) and an eligibility check;
-- ~2 % held: every 100th card inactive, every 100th (offset 50) eligibility lapsed.
-- usage: psql -v rows=1000000 -f ops/bench/disbursements.sql
INSERT INTO app.persons (id_number, name, household_no, street, community, hukou, able_to_work, wants_work, employment)
SELECT '211382' || lpad(n::text, 12, '0'), '测试' || n, 'H' || n, '城关街道', '南街社区', 'urban', false, false, 'retired'
FROM generate_series(1, :rows) n;
INSERT INTO app.cards (id_number, card_no, bank_code, bank_account, financial_status)
SELECT '211382' || lpad(n::text, 12, '0'), 'C' || n, '102', '6217' || lpad(n::text, 12, '0'),
       CASE WHEN n % 100 = 0 THEN 'inactive' ELSE 'active' END
FROM generate_series(1, :rows) n;
INSERT INTO app.entitlements (id_number, benefit, monthly_amount_fen, start_period)
SELECT '211382' || lpad(n::text, 12, '0'), 'enterprise_pension', 150000 + n % 100000, '2025-01-01'
FROM generate_series(1, :rows) n;
INSERT INTO app.life_events (id_number, event, date)
SELECT '211382' || lpad(n::text, 12, '0'), 'eligibility_verified', CASE WHEN n % 100 = 50 THEN date '2024-01-10' ELSE date '2026-01-10' END
FROM generate_series(1, :rows) n;
VACUUM ANALYZE app.persons;
VACUUM ANALYZE app.cards;
VACUUM ANALYZE app.entitlements;
VACUUM ANALYZE app.life_events;
