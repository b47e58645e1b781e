#!/usr/bin/env bash
# End to end, as whole processes, in one run: `analyze` (CSV → events) against
# baseline_py.py (pandas + scipy) on the same 8 h, 100 Hz night, alternating; then peak
# memory on 1 h and 24 h nights; then a folder of 20 simulated 8 h nights with 1 and 2
# threads.
#
#   benches/analyze_vs_python.sh [SHARED_DIR] [RUNS]
#
# SHARED_DIR holds bench/gen_night.py and bench/baseline_py.py (default ../shared). Needs
# python3 with numpy, scipy and pandas, and /usr/bin/time. Inputs are made once in
# $TMPDIR/sleeptwitch-e2e-bench (about 3 GB with the cohort).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared}
runs=${2:-7}
work=${TMPDIR:-/tmp}/sleeptwitch-e2e-bench
mkdir -p "$work/cohort"
for h in 1 8 24; do
    [ -s "$work/night_${h}h.csv" ] ||
        python3 "$shared/bench/gen_night.py" "$work/night_${h}h.csv" --hours "$h" --rate 100 --seed 1
done
cargo build --release --example analyze --example simulate --quiet
bin=target/release/examples/analyze
for i in $(seq -w 1 20); do
    if [ ! -s "$work/cohort/n$i.csv" ]; then
        target/release/examples/simulate --seed "$i" --hours 8 --rate 100 --site ankle "$work/sim" > /dev/null
        mv "$work/sim/night.csv" "$work/cohort/n$i.csv"
    fi
done
night=$work/night_8h.csv
cat "$night" "$work"/cohort/*.csv > /dev/null # in the page cache

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { grep -o "$1=[0-9.]*" | cut -d= -f2; }

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
    /usr/bin/time -f "wall_s=%e cpu_s=%U+%S rss_kb=%M" -o "$work/t.txt" \
        python3 "$shared/bench/baseline_py.py" "$night" --events "$work/py.csv" 2> "$work/py.txt"
    echo "run $i python $(tail -1 "$work/py.txt" | grep -o 'read_csv_s=[0-9.]*') $(cat "$work/t.txt")"
    /usr/bin/time -f "wall_s=%e cpu_s=%U+%S rss_kb=%M" -o "$work/t.txt" \
        "$bin" "$night" --events "$work/rs.csv" > /dev/null
    echo "run $i analyze $(cat "$work/t.txt")"
done | tee "$work/runs.txt"
py=$(grep ' python ' "$work/runs.txt" | field wall_s | median)
csv=$(grep ' python ' "$work/runs.txt" | field read_csv_s | median)
rs=$(grep ' analyze ' "$work/runs.txt" | field wall_s | median)
cpu() { grep -o 'cpu_s=[0-9.+]*' | cut -d= -f2 | bc | median; }
pyc=$(grep ' python ' "$work/runs.txt" | cpu)
rsc=$(grep ' analyze ' "$work/runs.txt" | cpu)
awk -v p="$py" -v c="$csv" -v r="$rs" -v pc="$pyc" -v rc="$rsc" 'BEGIN {
    printf "8 h night, medians: baseline_py %.2f s (read_csv_s %.3f s), analyze %.3f s: %.1fx faster, %.1fx read_csv alone\n", p, c, r, p/r, c/r
    printf "CPU time (user + system), medians: baseline_py %.2f s, analyze %.3f s: %.1fx less\n", pc, rc, pc/rc }'

for h in 1 8 24; do
    /usr/bin/time -f "%e %M" -o "$work/t.txt" "$bin" "$work/night_${h}h.csv" --events "$work/rs.csv" > /dev/null
    read -r wall_s rss_kb < "$work/t.txt"
    echo "night ${h} h: wall ${wall_s} s, peak RSS $((rss_kb / 1024)) MiB"
done

for i in $(seq 3); do
    for t in 1 2; do
        rm -rf "$work/out$t"
        /usr/bin/time -f "%e %M" -o "$work/t.txt" "$bin" --threads "$t" --out-dir "$work/out$t" "$work/cohort" > /dev/null
        read -r wall_s rss_kb < "$work/t.txt"
        echo "cohort run $i threads=$t wall_s=$wall_s peak_rss_mib=$((rss_kb / 1024))"
    done
done | tee "$work/cohort.txt"
one=$(grep 'threads=1' "$work/cohort.txt" | field wall_s | median)
two=$(grep 'threads=2' "$work/cohort.txt" | field wall_s | median)
awk -v a="$one" -v b="$two" 'BEGIN { printf "cohort of 20 nights, medians: 1 thread %.2f s, 2 threads %.2f s: %.2fx\n", a, b, a/b }'
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
