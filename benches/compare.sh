#!/usr/bin/env bash
# Times the jobs people run with stillframe and with ffmpeg, on the same file in one run,
# and prints medians and stillframe/ffmpeg ratios as a Markdown table.
#
#   benches/compare.sh [FILE] [RUNS]
#
# FILE defaults to tests/fixtures/bench/bench_1080p.mp4 (made by
# `tests/fixtures/make.sh --bench`: 1080p H.264 High, 60 s, 25 fps, a keyframe every 10 s).
# Needs ffmpeg and hyperfine (apt-get install ffmpeg hyperfine) and python3.
# On a busy machine, run it with raised priority so both sides get the CPU alike:
#   nice -n -15 benches/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-tests/fixtures/bench/bench_1080p.mp4}
RUNS=${2:-5}
[ -f "$FILE" ] || { echo "no $FILE: run tests/fixtures/make.sh --bench first" >&2; exit 2; }

# STILLFRAME_BIN may name a prebuilt binary; otherwise this tree is built.
if [ -n "${STILLFRAME_BIN:-}" ]; then
  SF=$STILLFRAME_BIN
else
  cargo build --release -q -p stillframe-cli
  SF=$PWD/target/release/stillframe
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
FF="ffmpeg -v error -nostdin -y"

DURATION=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$FILE")
# Ten exact times spread over the file, off the keyframes (mid-GOP is the costly case).
TIMES=$(python3 -c "d=float('$DURATION'); print(','.join(f'{(i+0.5)*d/10:.3f}' for i in range(10)))")
IFS=, read -ra TIME_LIST <<< "$TIMES"

per_time_ffmpeg() { # THREADS
  local cmd="" i=0
  for t in "${TIME_LIST[@]}"; do
    cmd+="$FF -threads $1 -ss $t -i $FILE -frames:v 1 $OUT/ff-ss-$i.png; "
    i=$((i + 1))
  done
  echo "$cmd"
}
select_expr=$(python3 -c "
ts='$TIMES'.split(','); print('+'.join(f'eq(n\\\\,{round(float(t)*25)})' for t in ts))")

run() { # NAME then commands
  local name=$1; shift
  hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/$name.json" "$@" >/dev/null 2>&1 \
    || hyperfine --shell=bash --warmup 1 --runs "$RUNS" --export-json "$OUT/$name.json" "$@" >/dev/null
}

echo "file: $FILE ($DURATION s); times for (b): $TIMES" >&2
run a \
  "$SF grab $FILE --at 0 -o $OUT/sf-a.png" \
  "$FF -threads 1 -i $FILE -frames:v 1 $OUT/ff-a1.png" \
  "$FF -threads 0 -i $FILE -frames:v 1 $OUT/ff-a0.png"
hyperfine --shell=bash --warmup 1 --runs "$RUNS" --export-json "$OUT/b.json" \
  "$SF grab $FILE --at $TIMES --exact --threads 1 -o $OUT/sf-b1-{i}.png" \
  "$SF grab $FILE --at $TIMES --exact -o $OUT/sf-b-{i}.png" \
  "$(per_time_ffmpeg 1)" \
  "$(per_time_ffmpeg 0)" \
  "$FF -threads 1 -i $FILE -vf \"select=$select_expr\" -fps_mode passthrough $OUT/ff-sel1-%d.png" \
  "$FF -threads 0 -i $FILE -vf \"select=$select_expr\" -fps_mode passthrough $OUT/ff-sel0-%d.png" >/dev/null
run c \
  "$SF grab $FILE --every 10 -o $OUT/sf-c-{i}.png" \
  "$FF -threads 1 -i $FILE -vf fps=1/10 $OUT/ff-c-exact1-%d.png" \
  "$FF -threads 0 -i $FILE -vf fps=1/10 $OUT/ff-c-exact0-%d.png" \
  "$FF -threads 1 -skip_frame nokey -i $FILE -fps_mode passthrough $OUT/ff-c-key1-%d.png" \
  "$FF -threads 0 -skip_frame nokey -i $FILE -fps_mode passthrough $OUT/ff-c-key0-%d.png"

python3 - "$OUT" <<'PY'
import json, sys, statistics
out = sys.argv[1]
def medians(name):
    results = json.load(open(f"{out}/{name}.json"))["results"]
    return [statistics.median(r["times"]) for r in results]
a, b, c = medians("a"), medians("b"), medians("c")
rows = [
    ("(a) first image: open + frame at 0 → PNG", a[0], [("ffmpeg 1 thread", a[1]), ("ffmpeg all threads", a[2])], 0.5),
    ("(b) 10 exact times, 1080p long GOP (stillframe 1 thread)", b[0], [("ffmpeg -ss per time, 1 thread", b[2]), ("ffmpeg select, 1 thread", b[4])], 0.5),
    ("(b) 10 exact times, 1080p long GOP (stillframe all threads)", b[1], [("ffmpeg -ss per time, all threads", b[3]), ("ffmpeg select, all threads", b[5])], 0.5),
    ("(c) one image every 10 s, default tolerance", c[0], [("ffmpeg exact fps=1/10, 1 thread", c[1]), ("ffmpeg exact fps=1/10, all threads", c[2]), ("ffmpeg -skip_frame nokey, 1 thread", c[3]), ("ffmpeg -skip_frame nokey, all threads", c[4])], None),
]
print("| job | stillframe (s) | ffmpeg way | ffmpeg (s) | ratio stillframe/ffmpeg |")
print("|---|--:|---|--:|--:|")
for job, ours, theirs, _ in rows:
    for way, t in theirs:
        print(f"| {job} | {ours:.3f} | {way} | {t:.3f} | {ours / t:.3f} |")
PY
