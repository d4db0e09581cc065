#!/usr/bin/env bash
# Regenerates the player's test recordings. The MP3s are committed, so the
# tests do not need these tools; run this only to change a fixture.
#
# Profile (unless a test needs another): MPEG-2 Layer III, 16 kHz mono,
# 32 kbps CBR, no bit reservoir, no LAME/Xing tag — the demo profile.
#
# Needs: sox, lame.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in sox lame; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install sox lame" >&2; exit 1; }
done

enc16() { lame --quiet --nores -t -b 32 --cbr -m m "$1" "$2"; }
quiet() { sox -q -n -r 16000 -c 1 -b 16 "$1" trim 0 "$2"; }
tone() { sox -q -n -r 16000 -c 1 -b 16 "$1" synth "$2" sine "$3" gain -6; }

# markers.mp3: 4 s of silence with a 100 ms 1 kHz burst starting at 0.5,
# 1.5, 2.5 and 3.5 s (plus the encoder's delay). Seek tests look for them.
parts=()
for i in 0 1 2 3; do
  quiet "$tmp/q$i.wav" 0.5; tone "$tmp/t$i.wav" 0.1 1000; quiet "$tmp/r$i.wav" 0.4
  parts+=("$tmp/q$i.wav" "$tmp/t$i.wav" "$tmp/r$i.wav")
done
sox -q "${parts[@]}" "$tmp/markers.wav"
enc16 "$tmp/markers.wav" markers.mp3

# sweep.mp3: 2 s chirp 200–3000 Hz, so that any sample shift or wrong
# resampling shows as a drop in correlation.
sox -q -n -r 16000 -c 1 -b 16 "$tmp/sweep.wav" synth 2 sine 200-3000 gain -6
enc16 "$tmp/sweep.wav" sweep.mp3

# stereo44.mp3: MPEG-1 44.1 kHz stereo 64 kbps, 1 s: the other accepted
# profile, exercising resampling from a rate that is not a divisor of 48 kHz.
sox -q -n -r 44100 -c 2 -b 16 "$tmp/st.wav" synth 1 sine 440 sine 660 gain -6
lame --quiet --nores -t -b 64 --cbr "$tmp/st.wav" stereo44.mp3

# tone440.mp3: 3 s of 440 Hz at the demo profile. The speed tests measure
# its pitch and length after time-stretching.
tone "$tmp/tone.wav" 3 440
enc16 "$tmp/tone.wav" tone440.mp3

# Refused profiles: MPEG-2 22.05 kHz (decoded wrongly by go-mp3) and
# MPEG-2.5 8 kHz (not decoded at all). 0.3 s each.
sox -q -n -r 22050 -c 1 -b 16 "$tmp/r22.wav" synth 0.3 sine 440 gain -6
lame --quiet --nores -t -b 32 --cbr -m m "$tmp/r22.wav" rate22050.mp3
sox -q -n -r 8000 -c 1 -b 16 "$tmp/r8.wav" synth 0.3 sine 440 gain -6
lame --quiet --nores -t -b 16 --cbr -m m "$tmp/r8.wav" rate8000.mp3

ls -l ./*.mp3
