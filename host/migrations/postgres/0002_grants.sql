-- What each deployment's guests may reach beyond the contract (JSON; nothing by default).
ALTER TABLE deployments ADD COLUMN grants TEXT NOT NULL DEFAULT '{}';
