#!/usr/bin/env bash
# Regenerates the demo recordings in internal/demo/audio from the dialogues in
# internal/demo/dialogues/*.txt. The MP3s are committed, so neither the demo
# nor the tests need these tools; run this only to change the dialogues.
#
# Profile: MPEG-2 Layer III, 16 kHz mono, 32 kbps CBR, no bit reservoir
# (--nores) so that frames can be cut and joined cleanly, no LAME/Xing tag.
# 16 kHz is chosen on purpose: go-mp3 decodes it correctly, unlike 8 kHz
# (MPEG-2.5, unsupported) and 22.05 kHz (decoded wrongly). See DESIGN.md.
#
# Needs: espeak-ng, sox, lame.
set -euo pipefail
cd "$(dirname "$0")/.."
src=internal/demo/dialogues
out=internal/demo/audio
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in espeak-ng sox lame; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install espeak-ng sox lame" >&2; exit 1; }
done

encode() { # wav mp3
  lame --quiet --nores -t -b 32 --cbr -m m "$1" "$2"
}

# Telephone band and a little line noise make espeak sound like a call.
phone() { # in out
  sox -q "$1" -r 16000 -c 1 -b 16 "$2" sinc 300-3400 gain -n -3
}

for f in "$src"/*.txt; do
  name=$(basename "$f" .txt)
  parts=()
  i=0
  while IFS='|' read -r who text; do
    [[ -z "$who" || "$who" == \#* ]] && continue
    case "$who" in
      A) voice="fr+f3"; speed=165 ;;   # agent
      C) voice="fr+m3"; speed=150 ;;   # customer
      *) echo "$f: unknown speaker $who" >&2; exit 1 ;;
    esac
    espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw$i.wav" "$text"
    phone "$tmp/raw$i.wav" "$tmp/line$i.wav"
    sox -q -n -r 16000 -c 1 -b 16 "$tmp/gap$i.wav" trim 0 0.$((4 + RANDOM % 5))
    parts+=("$tmp/line$i.wav" "$tmp/gap$i.wav")
    i=$((i + 1))
  done < "$f"
  sox -q "${parts[@]}" "$tmp/$name.wav"
  encode "$tmp/$name.wav" "$out/$name.mp3"
  echo "$out/$name.mp3 $(soxi -D "$tmp/$name.wav")s"
done

# One second of line silence, used to pad demo calls to their length.
sox -q -n -r 16000 -c 1 -b 16 "$tmp/silence.wav" trim 0 1.0
encode "$tmp/silence.wav" "$out/silence.mp3"
