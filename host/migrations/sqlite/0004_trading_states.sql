-- Trading states (ACTIVE / REDUCING / HALTED) of each deployment (scope 'deployment:NAME') and
-- of the whole account (scope 'account'), so a restart resumes in the state it stopped in.
CREATE TABLE trading_states (
    scope TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    since_ms BIGINT NOT NULL
);
