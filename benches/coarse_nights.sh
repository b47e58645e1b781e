#!/usr/bin/env bash
# Six simulated ankle nights from a coarse sensor (10 bits over ±8 g: 15.6 mg steps), scored
# with the detector: the condition the benchmarks' nights do not hold, a sensor whose noise
# is small next to its steps (difficulty 0: 2 mg of noise a sample).
#
#   benches/coarse_nights.sh DIR [DIFFICULTY] [FIRST_SEED]
#
# DIFFICULTY defaults to 0 and FIRST_SEED to 7000; the nights cycle through the
# benchmarks' rates and lengths (100 Hz 4 h, 25 Hz 8 h, 50 Hz 6 h, 200 Hz 2 h, 100 Hz 3 h,
# 50 Hz 8 h) and severities (mild, moderate, severe, none). Each night goes to DIR/nI; the
# pooled table and the per-night rows are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: benches/coarse_nights.sh DIR [DIFFICULTY] [FIRST_SEED]}
difficulty=${2:-0}
seed0=${3:-7000}
rates=("100 4" "25 8" "50 6" "200 2" "100 3" "50 8")
severities=(mild moderate severe none)
cargo build --release --example simulate --example evaluate --quiet
for i in 0 1 2 3 4 5; do
    read -r rate hours <<< "${rates[$i]}"
    target/release/examples/simulate --seed $((seed0 + i)) --hours "$hours" --rate "$rate" \
        --site ankle --difficulty "$difficulty" --severity "${severities[$((i % 4))]}" \
        --bits 10 "$dir/n$i" > /dev/null
done
target/release/examples/evaluate --dir "$dir"
