-- Every training run `stratbox model train --db` wrote: what it learnt from, how, what it
-- scored, the ensemble it made, and the run registered before it (lineage).
CREATE TABLE model_versions (
    id BIGSERIAL PRIMARY KEY,
    created_at_ms BIGINT NOT NULL,
    directory TEXT NOT NULL,
    symbols TEXT NOT NULL,
    data_from_ms BIGINT NOT NULL,
    data_to_ms BIGINT NOT NULL,
    config TEXT NOT NULL,
    report TEXT NOT NULL,
    ensemble TEXT,
    weights_sha256 TEXT NOT NULL,
    code_version TEXT NOT NULL,
    parent_id BIGINT REFERENCES model_versions (id)
);
