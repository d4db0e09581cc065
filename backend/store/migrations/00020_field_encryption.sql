-- Personal data encrypted at rest (issue 12, R9). The customer identity
-- fields of calls and the free text of evaluations hold values sealed with
-- the data key (backend/fieldcrypt) as BLOBs; a TEXT value in those columns
-- is plaintext written before this migration, which ecouted seals at its
-- first start (store.EnableFieldEncryption). A customer is found by the
-- keyed hash of their phone number, never by the number itself.

-- +goose Up
ALTER TABLE calls ADD COLUMN customer_phone_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_customer_phone_hash ON calls (customer_phone_hash);

-- +goose Down
DROP INDEX calls_customer_phone_hash;
ALTER TABLE calls DROP COLUMN customer_phone_hash;
