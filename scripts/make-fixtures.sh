#!/usr/bin/env bash
# Regenerates a fixture set (fixtures/speech by default, or the directory given, e.g.
# fixtures/wer or fixtures/speech-slt) from its sentences.tsv: each sentence is
# spoken by espeak-ng (or by festival, for a voice written festival:NAME), converted to 16 kHz mono PCM16 by sox, trimmed of silence and padded
# with exactly 150 ms of silence at each end (so speech lies in [0.15, duration − 0.15]).
# sox runs without dither (-D), so the same espeak-ng and sox give the same files. (The
# committed speech/ and wer/ files were made with sox's default dither: regenerating them
# changes the audio slightly.)
# Writes manifest.json with the text and timing of each file. Needs espeak-ng and sox:
#   apt-get install espeak-ng sox
#   bash scripts/make-fixtures.sh [fixtures/speech|fixtures/wer]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/${1:-fixtures/speech}"
[ -f sentences.tsv ] || { echo "make-fixtures: no sentences.tsv in ${1:-fixtures/speech}" >&2; exit 1; }
need() { command -v "$1" >/dev/null || { echo "make-fixtures: $1 is not installed (apt-get install $2)" >&2; exit 1; }; }
need sox sox
need soxi sox
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pad=0.15
manifest="$tmp/manifest.jsonl"
: > "$manifest"
while IFS=$'\t' read -r name language voice wpm gap text; do
  case "$name" in ''|'#'*) continue ;; esac
  echo "fixture $name ($voice): $text"
  case "$voice" in
    festival:*) # a festival voice (wpm and gap unused)
      need text2wave "festival festvox-us-slt-hts"
      printf '%s\n' "$text" > "$tmp/text.txt"
      text2wave -eval "(voice_${voice#festival:})" "$tmp/text.txt" -o "$tmp/raw.wav" ;;
    *) need espeak-ng espeak-ng
      espeak-ng -v "$voice" -s "$wpm" -g "$gap" -w "$tmp/raw.wav" "$text" ;;
  esac
  sox -D "$tmp/raw.wav" -r 16000 -c 1 -b 16 "$tmp/trim.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
  sox -D "$tmp/trim.wav" "$name.wav" pad "$pad" "$pad"
  duration=$(soxi -D "$name.wav")
  label="$voice $wpm wpm"
  case "$voice" in festival:*) label="$voice" ;; esac
  node -e 'const [name, language, voice, text, d, pad] = process.argv.slice(1);
    console.log(JSON.stringify({ name, language, voice, text, durationSeconds: +(+d).toFixed(4),
      speechStart: +pad, speechEnd: +(d - pad).toFixed(4) }))' \
    "$name" "$language" "$label" "$text" "$duration" "$pad" >> "$manifest"
done < sentences.tsv
node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
  process.stdout.write(JSON.stringify(lines.map((l) => JSON.parse(l)), null, 2) + "\n")' "$manifest" > manifest.json
echo "wrote $(grep -c '"name"' manifest.json) fixtures to ${1:-fixtures/speech}"
