-- Zero-employment households (零就业家庭, DOMAIN.md §3; 就业促进法 art. 56).

-- Birth date and sex come from the ID number (GB 11643-1999), never stored twice: positions 7-14
-- are YYYYMMDD, the 17th digit is odd for men.
CREATE FUNCTION app.id_birth_date(id_number text) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN make_date(substr(id_number, 7, 4)::int, substr(id_number, 11, 2)::int, substr(id_number, 13, 2)::int);

CREATE FUNCTION app.id_is_male(id_number text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN substr(id_number, 17, 1) IN ('1', '3', '5', '7', '9');

-- The day a person reaches statutory retirement age after the 2025 reform
-- (全国人大常委会关于实施渐进式延迟法定退休年龄的决定, 2024-09-13, in force 2025-01-01):
--   men 60 + 1 month per 4 months of birth from 1965-01, cap +36;
--   women of baseline 55 + 1 month per 4 months from 1970-01, cap +36;
--   women of baseline 50 + 1 month per 2 months from 1975-01, cap +60.
-- The same rule as Calendar/RetirementAge.cs (a property test holds them equal). Month arithmetic
-- clamps to the month's end exactly as DateOnly.AddMonths does. NULL for a baseline other than 50/55.
CREATE FUNCTION app.retirement_date(birth date, male boolean, female_baseline integer) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (birth + make_interval(months =>
        CASE
            WHEN male THEN 720 + CASE
                WHEN birth < date '1965-01-01' THEN 0
                ELSE least(36, ((extract(year FROM birth)::int - 1965) * 12 + extract(month FROM birth)::int - 1) / 4 + 1) END
            WHEN female_baseline = 55 THEN 660 + CASE
                WHEN birth < date '1970-01-01' THEN 0
                ELSE least(36, ((extract(year FROM birth)::int - 1970) * 12 + extract(month FROM birth)::int - 1) / 4 + 1) END
            WHEN female_baseline = 50 THEN 600 + CASE
                WHEN birth < date '1975-01-01' THEN 0
                ELSE least(60, ((extract(year FROM birth)::int - 1975) * 12 + extract(month FROM birth)::int - 1) / 2 + 1) END
        END))::date;

-- Working age (DOMAIN.md §0): from the minimum-age birthday (inclusive) to the retirement date (exclusive).
CREATE FUNCTION app.is_working_age(id_number text, female_baseline integer, as_of date, minimum_age integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN as_of >= app.id_birth_date(id_number) + make_interval(years => minimum_age)
       AND as_of < app.retirement_date(app.id_birth_date(id_number), app.id_is_male(id_number), female_baseline);

-- One case per identification. A household that qualifies again after its case ended gets a new case.
CREATE TABLE app.zero_employment_cases (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    household_no  text NOT NULL CHECK (household_no <> ''),
    street        text NOT NULL,
    community     text NOT NULL,
    state         text NOT NULL DEFAULT 'identified' CHECK (state IN ('identified', 'overdue', 'cleared', 'closed')),
    identified_on date NOT NULL,
    deadline      date NOT NULL CHECK (deadline > identified_on),
    -- Why the household qualified: every member with masked ID, age, status and why they count; never raw IDs or names.
    reason        jsonb NOT NULL,
    reminded_on   date,
    overdue_on    date CHECK (overdue_on > deadline),
    cleared_on    date CHECK (cleared_on >= identified_on),
    -- Who got work: the employed members (masked ID, kind of employment, since).
    cleared_by    jsonb,
    closed_on     date CHECK (closed_on >= identified_on),
    close_reason  text CHECK (close_reason IN ('moved', 'no_longer_qualifies', 'refused_referrals')),
    close_note    text,
    closed_by     text,
    closed_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'cleared') = (cleared_on IS NOT NULL AND cleared_by IS NOT NULL)),
    CHECK ((state = 'closed') = (closed_on IS NOT NULL AND close_reason IS NOT NULL AND closed_by IS NOT NULL AND closed_at IS NOT NULL)),
    CHECK (state <> 'overdue' OR overdue_on IS NOT NULL)
);
-- At most one open case per household: the daily run cannot open a second one, whatever races.
CREATE UNIQUE INDEX zero_employment_cases_one_open ON app.zero_employment_cases (household_no) WHERE state IN ('identified', 'overdue');
CREATE INDEX zero_employment_cases_household ON app.zero_employment_cases (household_no, id);
CREATE INDEX zero_employment_cases_place ON app.zero_employment_cases (street, community, identified_on);

-- A cleared or closed case is a record: it never changes again.
CREATE FUNCTION app.zero_employment_cases_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state IN ('cleared', 'closed') THEN
        RAISE EXCEPTION 'zero-employment case % is % and cannot change', OLD.id, OLD.state USING ERRCODE = 'raise_exception';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER zero_employment_cases_final BEFORE UPDATE OR DELETE ON app.zero_employment_cases
    FOR EACH ROW EXECUTE FUNCTION app.zero_employment_cases_final();
