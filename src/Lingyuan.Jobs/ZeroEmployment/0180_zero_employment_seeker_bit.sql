-- Bit 4 of ze_code (0070) leaves out full-time students and people the register records as retired: they are
-- never job-seekers (DOMAIN.md §3), whatever their willingness flags say. With it the scan's one pass over the
-- covering index counts each household's possible job-seekers, and only pensions in payment are looked up after
-- it; the member-by-member count it replaces read every person's row again (1.2 s of a 1.5 s scan of the bench's
-- million persons, ops/bench lab, 2026-12-03). Otherwise as 0070. PostgreSQL 15 cannot change a generated
-- column's expression: the column and its index are made again.
DROP INDEX app.persons_household_scan;
ALTER TABLE app.persons DROP COLUMN ze_code;
ALTER TABLE app.persons ADD COLUMN ze_code integer GENERATED ALWAYS AS (
      CASE WHEN hukou = 'urban' THEN 1 ELSE 0 END
    | CASE WHEN business_income THEN 2 ELSE 0 END
    | CASE WHEN employment IN ('employed', 'self_employed', 'flexible_insured') THEN 8
           WHEN able_to_work AND wants_work AND employment NOT IN ('student', 'retired') THEN 4
           ELSE 0 END
    | CASE WHEN substr(id_number, 17, 1) IN ('1', '3', '5', '7', '9') THEN 16
           WHEN female_baseline = 55 THEN 32
           WHEN female_baseline = 50 THEN 48
           ELSE 0 END) STORED;
CREATE INDEX persons_household_scan ON app.persons (household_no) INCLUDE (ze_birth, ze_code);
