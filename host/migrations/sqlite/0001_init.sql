-- Deployments, their components, their state and their fills.
CREATE TABLE components (
    hash TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE deployments (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    world TEXT NOT NULL,
    hash TEXT NOT NULL REFERENCES components(hash),
    config TEXT NOT NULL,
    previous_hash TEXT REFERENCES components(hash),
    previous_config TEXT,
    budget TEXT NOT NULL,
    halted_reason TEXT,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE strategy_state (
    deployment TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (deployment, key)
);

CREATE TABLE fills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    client_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    price TEXT NOT NULL,
    quantity TEXT NOT NULL,
    fee TEXT NOT NULL,
    status TEXT NOT NULL,
    time_ms INTEGER NOT NULL
);

CREATE INDEX fills_by_deployment ON fills (deployment, time_ms);
