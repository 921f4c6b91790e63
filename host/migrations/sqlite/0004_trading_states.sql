-- Trading states (ACTIVE / REDUCING / HALTED) of each deployment (scope 'deployment:NAME') and
-- of the whole account (scope 'account'), so a restart resumes in the state it stopped in.
CREATE TABLE trading_states (
    scope TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    since_ms BIGINT NOT NULL
);

-- Protective stops the host keeps on positions (JSON of the stop's state), by deployment and
-- symbol, so they keep their levels across a restart.
CREATE TABLE protective_stops (
    deployment TEXT NOT NULL,
    symbol TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (deployment, symbol)
);
