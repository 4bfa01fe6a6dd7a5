-- What the daily zero-employment scan needs of each person, kept beside the row so that the scan is an
-- index-only pass over one covering index in household order (ZeroEmploymentCheck.ScanAsync). Both are
-- facts of the row alone, computed by PostgreSQL on every insert and update, never written by hand:
--   ze_birth  the birth date from the ID number (GB 11643-1999 positions 7-14) as the integer YYYYMMDD,
--             which orders as the date does;
--   ze_code   bit 1 urban hukou, bit 2 business income, bit 4 able and willing to work and not employed,
--             bit 8 employed (a labour contract, licensed self-employment, flexible employment with social
--             insurance: DOMAIN.md §3; the list of ZeroEmploymentCheck.EmployedKinds, held equal by
--             ZeroEmploymentScanFacts), and in bits 16-32 the retirement rule: 1 man, 2 woman of baseline
--             55, 3 woman of baseline 50, 0 woman of unknown baseline (WorkingAge:DefaultFemaleBaseline).
ALTER TABLE app.persons
    ADD COLUMN ze_birth integer GENERATED ALWAYS AS (substr(id_number, 7, 8)::integer) STORED,
    ADD COLUMN ze_code integer GENERATED ALWAYS AS (
          CASE WHEN hukou = 'urban' THEN 1 ELSE 0 END
        | CASE WHEN business_income THEN 2 ELSE 0 END
        | CASE WHEN employment IN ('employed', 'self_employed', 'flexible_insured') THEN 8
               WHEN able_to_work AND wants_work THEN 4
               ELSE 0 END
        | CASE WHEN substr(id_number, 17, 1) IN ('1', '3', '5', '7', '9') THEN 16
               WHEN female_baseline = 55 THEN 32
               WHEN female_baseline = 50 THEN 48
               ELSE 0 END) STORED;

-- The covering index also serves every lookup by household, so the plain one (0002) goes: one index less
-- to maintain on each import.
CREATE INDEX persons_household_scan ON app.persons (household_no) INCLUDE (ze_birth, ze_code);
DROP INDEX app.persons_household;
