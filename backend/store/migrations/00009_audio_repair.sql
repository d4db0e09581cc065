-- Real PBX audio (issue 11): what of a damaged upload was left out to store
-- the rest, and the peaks of each party of a two-party (stereo) recording.

-- +goose Up
-- Empty when the recording was stored whole.
ALTER TABLE calls ADD COLUMN audio_repair TEXT NOT NULL DEFAULT '';
-- A stereo recording's peaks per channel, the left's then the right's, each
-- as long as peaks; NULL for mono.
ALTER TABLE calls ADD COLUMN channel_peaks BLOB;

-- +goose Down
ALTER TABLE calls DROP COLUMN channel_peaks;
ALTER TABLE calls DROP COLUMN audio_repair;
