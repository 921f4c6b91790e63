-- Signals still waiting for their horizon, so that a restart follows them on: each row is
-- written when its signal is made (its state then), rewritten with its progress (entry price,
-- excursions, path so far) when the service stops cleanly, and deleted in the transaction
-- that stores its outcome or when it is no longer followed.
CREATE TABLE signal_pending (
    id BIGINT PRIMARY KEY,
    state TEXT NOT NULL
);
-- A restart reads each source x kind x symbol's latest outcomes back (its rolling quality).
CREATE INDEX signal_outcomes_by_key ON signal_outcomes (source, kind, symbol, id);
