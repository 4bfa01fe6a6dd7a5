-- Duties of an account beyond its role (issues 16, 17, 19).
--  * caseworker: the community caseworker (社区就业协理员) who confirms zero-employment proposals for
--    the communities whose register row names this account's e-mail (app.communities.caseworker_email).
--  * decider: the department head (部门负责人) whose approval the law requires for a listing decision
--    (人社部令第45号 art. 5, 8) and for extending an inspection (劳动保障监察条例 art. 17). A flag, not a
--    role: the head is also an inspection (or admin) user, and four eyes still needs a second person.
ALTER TABLE app.users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE app.users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'operator', 'finance', 'inspection', 'caseworker'));
ALTER TABLE app.users ADD COLUMN decider boolean NOT NULL DEFAULT false;
