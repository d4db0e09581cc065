-- Checkpoints signed whole (issue 12): version 2 signs the purged count,
-- the creation time and the public key with the seq, hash and cutoff;
-- checkpoints made before keep version 1 (seq, hash and cutoff signed).

-- +goose Up
ALTER TABLE audit_checkpoints ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE audit_checkpoints DROP COLUMN version;
