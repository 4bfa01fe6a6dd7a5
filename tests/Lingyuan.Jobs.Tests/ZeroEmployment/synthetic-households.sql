-- Deterministic synthetic households for the zero-employment tests and the bench (ops/bench):
--   SELECT pg_temp.ze_synthetic(households => 400000, mail_domain => 'bench.test');
-- About 2.5 persons per household (1..4), valid ID numbers (GB 11643-1999 check character), 8 streets
-- x 12 communities, one community without a caseworker. Same arguments, same rows: every value is
-- a hash of the row number. Run in one session (pg_temp); the tables must be empty.

CREATE OR REPLACE FUNCTION pg_temp.ze_id(first17 text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT first17 || substr('10X98765432', ((
          substr(first17, 1, 1)::int * 7 + substr(first17, 2, 1)::int * 9 + substr(first17, 3, 1)::int * 10
        + substr(first17, 4, 1)::int * 5 + substr(first17, 5, 1)::int * 8 + substr(first17, 6, 1)::int * 4
        + substr(first17, 7, 1)::int * 2 + substr(first17, 8, 1)::int * 1 + substr(first17, 9, 1)::int * 6
        + substr(first17, 10, 1)::int * 3 + substr(first17, 11, 1)::int * 7 + substr(first17, 12, 1)::int * 9
        + substr(first17, 13, 1)::int * 10 + substr(first17, 14, 1)::int * 5 + substr(first17, 15, 1)::int * 8
        + substr(first17, 16, 1)::int * 4 + substr(first17, 17, 1)::int * 2) % 11) + 1, 1)
$$;

-- A pseudo-random 0..99 for row i and a salt.
CREATE OR REPLACE FUNCTION pg_temp.ze_pct(i bigint, salt int) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT (abs(hashint8(i * 1009 + salt)::bigint) % 100)::int
$$;

CREATE OR REPLACE FUNCTION pg_temp.ze_synthetic(households int, mail_domain text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    persons bigint;
BEGIN
    INSERT INTO app.communities (street, community, caseworker_name, caseworker_email)
    SELECT '街道' || s, '街道' || s || '社区' || c, '协理员' || s || '-' || c, 'cw-' || s || '-' || c || '@' || mail_domain
    FROM generate_series(1, 8) s, generate_series(1, 12) c
    WHERE NOT (s = 8 AND c = 12); -- this community has no caseworker in the register

    INSERT INTO app.persons (id_number, name, household_no, street, community, hukou, able_to_work, wants_work,
                             employment, employment_since, business_income, female_baseline)
    SELECT pg_temp.ze_id('211382' || to_char(date '1940-01-01' + ((n * 7919) % 30000)::int, 'YYYYMMDD')
                         || lpad((2 * (n / 30000) + sex)::text, 3, '0')),
           '居民' || n,
           'H' || lpad(h::text, 8, '0'),
           '街道' || (1 + h % 8),
           '街道' || (1 + h % 8) || '社区' || (1 + (h / 8) % 12),
           CASE WHEN pg_temp.ze_pct(h, 1) < 70 THEN 'urban' ELSE 'rural' END,
           pg_temp.ze_pct(n, 2) < 92,
           pg_temp.ze_pct(n, 3) < 85,
           CASE WHEN e < 45 THEN 'employed' WHEN e < 52 THEN 'self_employed' WHEN e < 58 THEN 'flexible_insured'
                WHEN e < 63 THEN 'flexible_uninsured' WHEN e < 73 THEN 'unemployed' WHEN e < 78 THEN 'registered_unemployed'
                WHEN e < 86 THEN 'student' WHEN e < 96 THEN 'retired' ELSE 'other' END,
           CASE WHEN e < 58 THEN date '2010-01-01' + (n % 5000)::int END,
           pg_temp.ze_pct(n, 5) < 3,
           CASE WHEN sex = 0 AND pg_temp.ze_pct(n, 6) < 10 THEN 55 WHEN sex = 0 AND pg_temp.ze_pct(n, 6) < 30 THEN 50 END
    FROM (
        SELECT h, (h - 1)::bigint * 4 + k - 1 AS n, pg_temp.ze_pct((h - 1)::bigint * 4 + k - 1, 4) AS e,
               pg_temp.ze_pct((h - 1)::bigint * 4 + k - 1, 7) % 2 AS sex
        FROM generate_series(1, households) h
        CROSS JOIN LATERAL generate_series(1, 1 + pg_temp.ze_pct(h, 0) % 4) k
    ) p;
    GET DIAGNOSTICS persons = ROW_COUNT;
    ANALYZE app.persons;
    RETURN persons;
END $$;
