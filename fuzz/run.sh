#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after another, and prints
# a table of executions and coverage. Exit status:
#   0  no finding
#   1  a target found a crash, an OOM or a timeout (the input is saved in
#      fuzz/artifacts/<target>/, the log in fuzz/logs/<target>.log)
#   2  the fuzz targets do not build (or the seeds cannot be written): a code problem
#   3  the tools are missing: cargo-fuzz could not be installed, or there is no
#      nightly toolchain and stable with RUSTC_BOOTSTRAP=1 could not build them
#
#   fuzz/run.sh 600                 # ten minutes per target
#   FUZZ_TARGETS="planner time_parse" fuzz/run.sh 30
#   FUZZ_JOBS=2 fuzz/run.sh 3600    # two fuzzing processes per target
#   FUZZ_RUNS=10000000 FUZZ_SANITIZER=none fuzz/run.sh 14400
#                                   # the long run: 10M executions or 4 h per target
#
# Environment:
#   FUZZ_TARGETS      targets to run (default: all of them)
#   FUZZ_JOBS         parallel libFuzzer processes per target (default 1)
#   FUZZ_RUNS         stop a target after this many executions (default: time only)
#   FUZZ_TIMEOUT      seconds one input may take before it counts as a hang (default 10)
#   FUZZ_SANITIZER    address (default) or none: without AddressSanitizer the
#                     targets run 2-10x faster; panics, overflows, hangs and the RSS
#                     limit are still caught (our code is safe Rust outside the codec
#                     adapters), but not memory errors inside OpenH264's C++
#   FUZZ_BUILD_FLAGS  extra `cargo fuzz build` flags, e.g. "--codegen-units 16" to
#                     build faster (cargo-fuzz forces 1 codegen unit otherwise)
#   FUZZ_CORPUS_DIRS  extra folders of media files to seed from (default: the shared
#                     corpus, ../../shared/corpus from here, when it exists)
#   FUZZ_SKIP_PREPARE set to skip seeding and building (a second run.sh beside a
#                     first one, on other targets)
#
# The working corpus grows in fuzz/corpus/<target>/ (kept between runs); the seeds
# are rebuilt from the fixtures in fuzz/seeds/<target>/ each run. Logs go to
# fuzz/logs/<target>.log.
set -uo pipefail
fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$fuzz_dir")"
seconds="${1:-60}"
targets=(${FUZZ_TARGETS:-mp4_demux mkv_demux raw_demux h264_packets hevc_packets vp9_packets av1_packets planner time_parse grab_any})
jobs="${FUZZ_JOBS:-1}"
sanitizer="${FUZZ_SANITIZER:-address}"
case "$sanitizer" in
  address) target_dir="$fuzz_dir/target" ;;
  none) target_dir="$fuzz_dir/target-nosan" ;;
  *) echo "fuzz: FUZZ_SANITIZER is address or none, not $sanitizer" >&2; exit 2 ;;
esac

fail_build() {
  echo "fuzz: $*" >&2
  if [ -n "${fallback:-}" ]; then
    echo "fuzz: (with stable and RUSTC_BOOTSTRAP=1, for want of a nightly toolchain)" >&2
    exit 3
  fi
  exit 2
}

fail_tools() {
  echo "fuzz: $*" >&2
  exit 3
}

# cargo-fuzz needs nightly (-Zsanitizer); without a nightly toolchain, stable with
# RUSTC_BOOTSTRAP=1 accepts the same flags.
if rustup run nightly rustc --version >/dev/null 2>&1; then
  cargo=(cargo +nightly)
  echo "fuzz: toolchain $(rustup run nightly rustc --version)"
else
  cargo=(cargo)
  fallback=1
  export RUSTC_BOOTSTRAP=1
  echo "fuzz: no nightly toolchain installed; using $(rustc --version) with RUSTC_BOOTSTRAP=1"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is missing; installing it from crates.io"
  cargo install cargo-fuzz --locked >"$fuzz_dir/cargo-fuzz-install.log" 2>&1 \
    || { tail -20 "$fuzz_dir/cargo-fuzz-install.log" >&2; fail_tools "installing cargo-fuzz failed"; }
fi
echo "fuzz: $(cargo fuzz --version)"

if [ -z "${FUZZ_SKIP_PREPARE:-}" ]; then
  # Seeds from the fixtures (and the shared corpus), in each target's input layout.
  corpus_dirs=("$root/tests/fixtures" "$root/crates/stillframe-h264/tests/data" "$root/crates/stillframe-mkv")
  extra="${FUZZ_CORPUS_DIRS-$root/../shared/corpus}"
  for dir in $extra; do
    [ -d "$dir" ] && corpus_dirs+=("$dir")
  done
  rm -rf "$fuzz_dir/seeds"
  (cd "$fuzz_dir" && cargo run -q --locked -p stillframe-fuzz-input --bin seed -- "$fuzz_dir/seeds" "${corpus_dirs[@]}") \
    || fail_build "writing the seed corpora failed"

  # -O: release with our crates' debug assertions (see fuzz/Cargo.toml), not every
  # crate's: rav1d's turn on runtime borrow tracking and make AV1 ~100x slower.
  build=(fuzz build -O --sanitizer "$sanitizer" --target-dir "$target_dir" ${FUZZ_BUILD_FLAGS:-})
  echo "fuzz: building the targets (cargo ${build[*]})"
  (cd "$root" && "${cargo[@]}" "${build[@]}") >"$fuzz_dir/build.log" 2>&1 \
    || { grep -E -A8 "^error" "$fuzz_dir/build.log" | head -40 >&2; fail_build "building the fuzz targets failed (fuzz/build.log)"; }
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="$target_dir/$triple/release"

# OpenH264's C++ defines one table in two translation units (an ODR report that is
# not ours); rav1d frees a closed decoder from threads it does not join (lsan.supp).
export ASAN_OPTIONS="detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$fuzz_dir/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# Inputs longer than this are not generated (seeds are cut to it): decoding is what
# costs, so packet streams stay at a few frames; files for the pipeline stay whole.
max_len_for() {
  case "$1" in
    h264_packets | hevc_packets | vp9_packets | av1_packets) echo 16384 ;;
    grab_any | raw_demux) echo 131072 ;;
    *) echo "" ;;
  esac
}

dict_for() {
  case "$1" in
    mp4_demux) echo mp4 ;;
    mkv_demux) echo mkv ;;
    raw_demux) echo raw ;;
    h264_packets) echo h264 ;;
    av1_packets) echo av1 ;;
    grab_any) echo container ;;
    time_parse) echo time ;;
    *) echo "" ;;
  esac
}

mkdir -p "$fuzz_dir/logs"
failed=()
# cov: edges reached, of the instrumented ones (all linked code, libraries included);
# ft: libFuzzer's features (edges with hit counts, comparisons).
printf '%-14s %10s %8s %8s %8s %9s  %s\n' target executions cov of ft exec/s result
for target in "${targets[@]}"; do
  mkdir -p "$fuzz_dir/corpus/$target" "$fuzz_dir/artifacts/$target"
  log="$fuzz_dir/logs/$target.log"
  dict="$(dict_for "$target")"
  args=(
    -artifact_prefix="$fuzz_dir/artifacts/$target/"
    -max_total_time="$seconds"
    -rss_limit_mb=2048
    -malloc_limit_mb=2048
    -timeout="${FUZZ_TIMEOUT:-10}"
    -print_final_stats=1
  )
  [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
  [ -n "$dict" ] && args+=(-dict="$fuzz_dir/dict/$dict.dict")
  max_len="$(max_len_for "$target")"
  [ -n "$max_len" ] && args+=(-max_len="$max_len")
  if [ "$jobs" -gt 1 ]; then
    args+=(-fork="$jobs" -ignore_crashes=0 -ignore_timeouts=0 -ignore_ooms=0)
  fi
  "$bin_dir/$target" "${args[@]}" "$fuzz_dir/corpus/$target" "$fuzz_dir/seeds/$target" >"$log" 2>&1
  status=$?
  executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  last="$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|pulse|NEW|REDUCE)' "$log" | tail -1)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
  edges="$(sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -1)"
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $status; see fuzz/logs/$target.log)"
    failed+=("$target")
  fi
  printf '%-14s %10s %8s %8s %8s %9s  %s\n' "$target" "${executions:-?}" "${cov:-?}" "${edges:-?}" "${ft:-?}" "${speed:-?}" "$result"
done

if [ "${#failed[@]}" -gt 0 ]; then
  for target in "${failed[@]}"; do
    echo
    echo "== $target"
    grep -E -m 12 "panicked at|ERROR: |SUMMARY|Test unit written|^thread '|assertion" "$fuzz_dir/logs/$target.log"
  done
  echo
  echo "fuzz: reproduce with: cargo +nightly fuzz run -O <target> fuzz/artifacts/<target>/<file>"
  exit 1
fi
