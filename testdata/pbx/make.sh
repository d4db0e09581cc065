#!/usr/bin/env bash
# Regenerates the PBX-format fixtures the ingest tests use where Go cannot
# write the format itself (the WAV, G.711 and two-party fixtures are built
# by the tests). The files are committed; run this only to change one.
#
# The signal is the tests' two-tone: 400 Hz + 1300 Hz, equal amplitude,
# phase 0 at the start, normalised to -6 dBFS, 3 s at 8 kHz mono.
#
# Needs: sox (built with GSM), lame.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sox -q -n -r 8000 -c 1 -b 16 "$tmp/tt.wav" synth 3 sine 400 sine 1300 remix - gain -n -6
# Asterisk's WAV49: GSM 6.10 in a WAV, format tag 49 (0x31).
sox -q "$tmp/tt.wav" -e gsm-full-rate two-tone-wav49.wav
# An 8 kHz MP3 as PBXs write them: MPEG-2.5 Layer III, mono, 16 kbps.
lame --quiet -m m -b 16 --cbr "$tmp/tt.wav" two-tone-8k.mp3
ls -l ./*.wav ./*.mp3
