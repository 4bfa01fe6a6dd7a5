-- The bureau's registers (INTERFACES.md, Register files). The first column of each file is the
-- natural key; re-importing a file upserts on it. Money is integer fen; periods are the first day
-- of their month. Birth date and sex are derived from the ID number, never stored twice.

CREATE TABLE app.employers (
    uscc                char(18) PRIMARY KEY,
    name                text NOT NULL CHECK (name <> ''),
    street              text NOT NULL,
    community           text NOT NULL,
    industry            text NOT NULL,
    risk_class          char(1) NOT NULL CHECK (risk_class IN ('A', 'B', 'C', 'D')),
    migrant_workers     integer NOT NULL CHECK (migrant_workers >= 0),
    email               text NOT NULL,
    legal_rep_name      text NOT NULL,
    legal_rep_id_number char(18) NOT NULL,
    abnormal            boolean NOT NULL DEFAULT false,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX employers_street ON app.employers (street);

CREATE TABLE app.inspectors (
    badge_no   text PRIMARY KEY CHECK (badge_no <> ''),
    name       text NOT NULL CHECK (name <> ''),
    email      text NOT NULL,
    unit       text NOT NULL,
    street     text NOT NULL,
    active     boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Declared conflicts of interest (劳动保障监察条例 art. 17: avoidance).
CREATE TABLE app.conflicts (
    badge_no   text NOT NULL,
    uscc       char(18) NOT NULL,
    reason     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (badge_no, uscc)
);
CREATE INDEX conflicts_uscc ON app.conflicts (uscc);

CREATE TABLE app.communities (
    street           text NOT NULL,
    community        text NOT NULL,
    caseworker_name  text NOT NULL,
    caseworker_email text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street, community)
);

CREATE TABLE app.persons (
    id_number        char(18) PRIMARY KEY,
    name             text NOT NULL CHECK (name <> ''),
    household_no     text NOT NULL CHECK (household_no <> ''),
    street           text NOT NULL,
    community        text NOT NULL,
    hukou            text NOT NULL CHECK (hukou IN ('urban', 'rural')),
    able_to_work     boolean NOT NULL,
    wants_work       boolean NOT NULL,
    employment       text NOT NULL CHECK (employment IN ('employed', 'self_employed', 'flexible_insured', 'flexible_uninsured',
                                                         'unemployed', 'registered_unemployed', 'student', 'retired', 'other')),
    employment_since date,
    business_income  boolean NOT NULL DEFAULT false,
    -- 50 (workers) or 55 (cadres) for women when known; else WorkingAge:DefaultFemaleBaseline decides.
    female_baseline  smallint CHECK (female_baseline IN (50, 55)),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_household ON app.persons (household_no);

-- The financial function of the social security card.
CREATE TABLE app.cards (
    id_number        char(18) PRIMARY KEY,
    card_no          text NOT NULL UNIQUE,
    bank_code        text NOT NULL,
    bank_account     text NOT NULL CHECK (bank_account ~ '^[0-9]{16,19}$'),
    financial_status text NOT NULL CHECK (financial_status IN ('active', 'inactive', 'frozen', 'lost')),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cards_account ON app.cards (bank_account);

CREATE TABLE app.entitlements (
    id_number          char(18) NOT NULL,
    benefit            text NOT NULL CHECK (benefit IN ('enterprise_pension', 'institution_pension', 'resident_pension', 'work_injury',
                                                        'unemployment', 'employment_subsidy', 'training_subsidy', 'insurance_subsidy',
                                                        'survivor_allowance')),
    monthly_amount_fen bigint NOT NULL CHECK (monthly_amount_fen >= 0),
    start_period       date NOT NULL CHECK (extract(day FROM start_period) = 1),
    end_period         date CHECK (extract(day FROM end_period) = 1 AND end_period >= start_period),
    suspended          boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id_number, benefit)
);

CREATE TABLE app.life_events (
    id_number  char(18) NOT NULL,
    event      text NOT NULL CHECK (event IN ('death', 'eligibility_verified', 'suspended', 'resumed')),
    date       date NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id_number, event, date)
);

CREATE TABLE app.arrears_cases (
    case_no             text PRIMARY KEY CHECK (case_no <> ''),
    uscc                char(18) NOT NULL,
    workers_affected    integer NOT NULL CHECK (workers_affected >= 0),
    amount_owed_fen     bigint NOT NULL CHECK (amount_owed_fen >= 0),
    max_months_owed     integer NOT NULL CHECK (max_months_owed >= 0),
    order_issued_on     date NOT NULL,
    pay_deadline        date NOT NULL CHECK (pay_deadline >= order_issued_on),
    paid_on             date,
    incident            text NOT NULL CHECK (incident IN ('none', 'group', 'extreme')),
    credit_promise_on   date,
    responsible_persons text NOT NULL DEFAULT '',
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX arrears_cases_uscc ON app.arrears_cases (uscc);

-- The working-day calendar: exceptions to Monday-Friday (DOMAIN.md §0).
CREATE TABLE app.holidays (
    date       date PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- 2026, from 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04).
INSERT INTO app.holidays (date, kind)
SELECT d::date, 'holiday' FROM (VALUES
    ('2026-01-01'), ('2026-01-02'), ('2026-01-03'),
    ('2026-02-15'), ('2026-02-16'), ('2026-02-17'), ('2026-02-18'), ('2026-02-19'), ('2026-02-20'), ('2026-02-21'), ('2026-02-22'), ('2026-02-23'),
    ('2026-04-04'), ('2026-04-05'), ('2026-04-06'),
    ('2026-05-01'), ('2026-05-02'), ('2026-05-03'), ('2026-05-04'), ('2026-05-05'),
    ('2026-06-19'), ('2026-06-20'), ('2026-06-21'),
    ('2026-09-25'), ('2026-09-26'), ('2026-09-27'),
    ('2026-10-01'), ('2026-10-02'), ('2026-10-03'), ('2026-10-04'), ('2026-10-05'), ('2026-10-06'), ('2026-10-07')
) AS h(d)
UNION ALL
SELECT d::date, 'workday' FROM (VALUES
    ('2026-01-04'), ('2026-02-14'), ('2026-02-28'), ('2026-05-09'), ('2026-09-20'), ('2026-10-10')
) AS w(d);
