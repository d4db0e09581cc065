-- PostgreSQL's version of 00020_field_encryption.sql. SQLite keeps a sealed
-- value (bytes) in a TEXT column; PostgreSQL types its columns, so the
-- sealed columns become BYTEA here. A PostgreSQL database is created by a
-- version that seals from the start: there is no plaintext to convert.

-- +goose Up
ALTER TABLE calls ADD COLUMN customer_phone_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_customer_phone_hash ON calls (customer_phone_hash);

ALTER TABLE calls
    ALTER COLUMN customer_name DROP DEFAULT,
    ALTER COLUMN customer_name TYPE BYTEA USING convert_to(customer_name, 'UTF8'),
    ALTER COLUMN customer_name SET DEFAULT ''::bytea,
    ALTER COLUMN customer_phone DROP DEFAULT,
    ALTER COLUMN customer_phone TYPE BYTEA USING convert_to(customer_phone, 'UTF8'),
    ALTER COLUMN customer_phone SET DEFAULT ''::bytea,
    ALTER COLUMN customer_address DROP DEFAULT,
    ALTER COLUMN customer_address TYPE BYTEA USING convert_to(customer_address, 'UTF8'),
    ALTER COLUMN customer_address SET DEFAULT ''::bytea,
    ALTER COLUMN customer_number DROP DEFAULT,
    ALTER COLUMN customer_number TYPE BYTEA USING convert_to(customer_number, 'UTF8'),
    ALTER COLUMN customer_number SET DEFAULT ''::bytea;

ALTER TABLE evaluations
    ALTER COLUMN answers DROP DEFAULT,
    ALTER COLUMN answers TYPE BYTEA USING convert_to(answers, 'UTF8'),
    ALTER COLUMN answers SET DEFAULT ''::bytea,
    ALTER COLUMN comment DROP DEFAULT,
    ALTER COLUMN comment TYPE BYTEA USING convert_to(comment, 'UTF8'),
    ALTER COLUMN comment SET DEFAULT ''::bytea,
    ALTER COLUMN override_reason DROP DEFAULT,
    ALTER COLUMN override_reason TYPE BYTEA USING convert_to(override_reason, 'UTF8'),
    ALTER COLUMN override_reason SET DEFAULT ''::bytea,
    ALTER COLUMN agent_comment DROP DEFAULT,
    ALTER COLUMN agent_comment TYPE BYTEA USING convert_to(agent_comment, 'UTF8'),
    ALTER COLUMN agent_comment SET DEFAULT ''::bytea,
    ALTER COLUMN resolution_reason DROP DEFAULT,
    ALTER COLUMN resolution_reason TYPE BYTEA USING convert_to(resolution_reason, 'UTF8'),
    ALTER COLUMN resolution_reason SET DEFAULT ''::bytea;

-- +goose Down
ALTER TABLE calls
    ALTER COLUMN customer_name DROP DEFAULT,
    ALTER COLUMN customer_name TYPE TEXT USING convert_from(customer_name, 'UTF8'),
    ALTER COLUMN customer_name SET DEFAULT '',
    ALTER COLUMN customer_phone DROP DEFAULT,
    ALTER COLUMN customer_phone TYPE TEXT USING convert_from(customer_phone, 'UTF8'),
    ALTER COLUMN customer_phone SET DEFAULT '',
    ALTER COLUMN customer_address DROP DEFAULT,
    ALTER COLUMN customer_address TYPE TEXT USING convert_from(customer_address, 'UTF8'),
    ALTER COLUMN customer_address SET DEFAULT '',
    ALTER COLUMN customer_number DROP DEFAULT,
    ALTER COLUMN customer_number TYPE TEXT USING convert_from(customer_number, 'UTF8'),
    ALTER COLUMN customer_number SET DEFAULT '';
ALTER TABLE evaluations
    ALTER COLUMN answers DROP DEFAULT,
    ALTER COLUMN answers TYPE TEXT USING convert_from(answers, 'UTF8'),
    ALTER COLUMN answers SET DEFAULT '',
    ALTER COLUMN comment DROP DEFAULT,
    ALTER COLUMN comment TYPE TEXT USING convert_from(comment, 'UTF8'),
    ALTER COLUMN comment SET DEFAULT '',
    ALTER COLUMN override_reason DROP DEFAULT,
    ALTER COLUMN override_reason TYPE TEXT USING convert_from(override_reason, 'UTF8'),
    ALTER COLUMN override_reason SET DEFAULT '',
    ALTER COLUMN agent_comment DROP DEFAULT,
    ALTER COLUMN agent_comment TYPE TEXT USING convert_from(agent_comment, 'UTF8'),
    ALTER COLUMN agent_comment SET DEFAULT '',
    ALTER COLUMN resolution_reason DROP DEFAULT,
    ALTER COLUMN resolution_reason TYPE TEXT USING convert_from(resolution_reason, 'UTF8'),
    ALTER COLUMN resolution_reason SET DEFAULT '';
DROP INDEX calls_customer_phone_hash;
ALTER TABLE calls DROP COLUMN customer_phone_hash;
