-- The shape of every identifier in the registers, checked by the database as well as by the import
-- (DOMAIN.md §0). Check characters are verified by the import (Identifiers.cs); the database refuses
-- what cannot be an identifier at all, whoever writes the row.
ALTER TABLE app.employers
    ADD CONSTRAINT employers_uscc_format CHECK (uscc ~ '^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$'),
    ADD CONSTRAINT employers_legal_rep_id_format CHECK (legal_rep_id_number ~ '^[0-9]{17}[0-9X]$');
ALTER TABLE app.conflicts
    ADD CONSTRAINT conflicts_uscc_format CHECK (uscc ~ '^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$');
ALTER TABLE app.arrears_cases
    ADD CONSTRAINT arrears_cases_uscc_format CHECK (uscc ~ '^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$');
ALTER TABLE app.persons
    ADD CONSTRAINT persons_id_number_format CHECK (id_number ~ '^[0-9]{17}[0-9X]$');
ALTER TABLE app.cards
    ADD CONSTRAINT cards_id_number_format CHECK (id_number ~ '^[0-9]{17}[0-9X]$');
ALTER TABLE app.entitlements
    ADD CONSTRAINT entitlements_id_number_format CHECK (id_number ~ '^[0-9]{17}[0-9X]$');
ALTER TABLE app.life_events
    ADD CONSTRAINT life_events_id_number_format CHECK (id_number ~ '^[0-9]{17}[0-9X]$');
