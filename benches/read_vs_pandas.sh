#!/usr/bin/env bash
# Whole-file read of an 8 h, 100 Hz night: this crate's CSV reader (the analyze example)
# against pandas.read_csv (baseline_py.py's read_csv_s), in alternating runs of one session.
#
#   benches/read_vs_pandas.sh [SHARED_DIR] [RUNS]
#
# SHARED_DIR holds bench/gen_night.py and bench/baseline_py.py (default ../shared).
# Needs python3 with numpy, scipy and pandas. Prints every run, then the median and best
# read time of each (the best is the least disturbed by anything else on the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared}
runs=${2:-7}
work=${TMPDIR:-/tmp}/sleeptwitch-read-bench
mkdir -p "$work"
night=$work/night_8h_100hz_seed1.csv
if [ ! -s "$night" ]; then
    python3 "$shared/bench/gen_night.py" "$night" --hours 8 --rate 100 --seed 1
fi
cargo build --release --example analyze --quiet
bin=target/release/examples/analyze
bytes=$(stat -c %s "$night")
cat "$night" > /dev/null # in the page cache for both

printf 'file %s: %s bytes\n' "$night" "$bytes"
for i in $(seq "$runs"); do
    for threads in 1 2; do
        /usr/bin/time -f "%e %M" -o "$work/time.txt" \
            "$bin" --read-only --timing --threads "$threads" "$night" > "$work/out.txt"
        read_s=$(awk '$1 == "read" {print $2}' "$work/out.txt")
        read -r wall_s rss_kb < "$work/time.txt"
        echo "run $i sleeptwitch threads=$threads read_s=$read_s process_s=$wall_s peak_rss_kb=$rss_kb"
    done
    /usr/bin/time -f "%e %M" -o "$work/time.txt" \
        python3 "$shared/bench/baseline_py.py" "$night" --events "$work/events.csv" \
        2> "$work/py.txt"
    pandas_s=$(grep -o 'read_csv_s=[0-9.]*' "$work/py.txt" | cut -d= -f2)
    read -r wall_s rss_kb < "$work/time.txt"
    echo "run $i pandas read_csv_s=$pandas_s process_s=$wall_s peak_rss_kb=$rss_kb"
done | tee "$work/runs.txt"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
best() { sort -n | head -1; }
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for who in "sleeptwitch threads=1" "sleeptwitch threads=2" "pandas"; do
    key=$([ "$who" = pandas ] && echo read_csv_s || echo read_s)
    times=$(grep "$who " "$work/runs.txt" | grep -o "$key=[0-9.]*" | cut -d= -f2)
    med=$(echo "$times" | median)
    min=$(echo "$times" | best)
    rss=$(grep "$who " "$work/runs.txt" | grep -o 'peak_rss_kb=[0-9]*' | cut -d= -f2 | median)
    awk -v w="$who" -v m="$med" -v b="$min" -v n="$bytes" -v r="$rss" 'BEGIN {
        printf "%-22s read: median %.3f s (%4.0f MB/s), best %.3f s (%4.0f MB/s); peak RSS %.0f MiB\n",
            w, m, n/1e6/m, b, n/1e6/b, r/1024 }'
done
