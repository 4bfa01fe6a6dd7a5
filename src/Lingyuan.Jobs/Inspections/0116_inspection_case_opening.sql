-- 劳动保障监察条例 art. 17: an investigation finishes within 60 working days of case opening (立案);
-- for a complex case the department head may approve up to 30 more. Both are records of who and why:
-- append-only (app.refuse_change), one opening and at most one extension per drawn employer.

CREATE TABLE app.inspection_openings (
    draw_id     bigint NOT NULL,
    uscc        char(18) NOT NULL,
    opened_on   date NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (draw_id, uscc),
    FOREIGN KEY (draw_id, uscc) REFERENCES app.draw_results (draw_id, uscc)
);

CREATE TABLE app.inspection_extensions (
    draw_id      bigint NOT NULL,
    uscc         char(18) NOT NULL,
    working_days smallint NOT NULL CHECK (working_days BETWEEN 1 AND 30),
    reason       text NOT NULL CHECK (btrim(reason) <> ''),
    -- The department head (app.users.decider), checked inside the unit of work that records it.
    approved_by  text NOT NULL,
    approved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (draw_id, uscc),
    FOREIGN KEY (draw_id, uscc) REFERENCES app.inspection_openings (draw_id, uscc)
);

CREATE TRIGGER inspection_openings_append_only BEFORE UPDATE OR DELETE ON app.inspection_openings FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER inspection_extensions_append_only BEFORE UPDATE OR DELETE ON app.inspection_extensions FOR EACH ROW EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER inspection_openings_no_truncate BEFORE TRUNCATE ON app.inspection_openings EXECUTE FUNCTION app.refuse_change();
CREATE TRIGGER inspection_extensions_no_truncate BEFORE TRUNCATE ON app.inspection_extensions EXECUTE FUNCTION app.refuse_change();

-- The completion deadline now follows the opening and the extension; "extended" marks a deadline moved by
-- an approved extension (never shown overdue against the original limit).
ALTER TABLE app.inspection_deadlines ADD COLUMN extended boolean NOT NULL DEFAULT false;

-- Complaints received about an employer (DOMAIN.md §1: employers with many complaints are class D unless
-- overridden; Inspections:ComplaintsForClassD). An optional column of the employers register file.
ALTER TABLE app.employers ADD COLUMN complaints integer NOT NULL DEFAULT 0 CHECK (complaints >= 0);
