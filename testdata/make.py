#!/usr/bin/env python3
"""Makes the files in testdata/ (see README.md there for what each one is).

    python3 testdata/make.py small              # synthetic and bad files (no dependencies)
    python3 testdata/make.py excerpts SHARED    # cuts of real recordings and of a generated
                                                # night; SHARED holds data/ and bench/
    python3 testdata/make.py simulated          # a simulated night with its truth (needs cargo)

Every file comes out byte for byte the same on every run (the night needs numpy and
pandas for gen_night.py; it was made with numpy 2.4.6 and pandas 3.1.1).
"""
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
G = 9.80665


def motion(t):
    """A slowly turning gravity vector with a 3 Hz tremor: |a| close to 1 g."""
    x = 0.10 * math.sin(2 * math.pi * 0.2 * t)
    y = 0.20 * math.cos(2 * math.pi * 0.1 * t)
    z = -math.sqrt(1 - x * x - y * y) + 0.01 * math.sin(2 * math.pi * 3.0 * t)
    return x, y, z


def rows_g(n, rate_hz):
    """(t text, [x, y, z] text with 5 decimals) for n samples at rate_hz from t = 0."""
    out = []
    for i in range(n):
        t = i / rate_hz
        out.append((f"{t:.2f}" if rate_hz == 100 else f"{t:.4f}", [f"{v:.5f}" for v in motion(t)]))
    return out


def write(name, text, mode="w"):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if mode == "wb":
        with open(path, "wb") as f:
            f.write(text)
    else:
        with open(path, "w", newline="") as f:
            f.write(text)


def write_gz(name, data):
    """Writes bytes gzip-compressed; mtime 0 and no file name in the header, so the same
    bytes come out on every run."""
    import gzip
    with open(os.path.join(HERE, name), "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as z:
            z.write(data)


def lines(header, rows, sep=",", end="\n"):
    body = [header] if header is not None else []
    body += [sep.join([t] + xyz) for t, xyz in rows]
    return end.join(body) + end


def times_ms2(xyz):
    """The exact product of a 5-decimal g value and 9.80665, as text (10 decimals)."""
    out = []
    for v in xyz:
        units = round(float(v) * 100000)           # the g value in 1e-5 g, exactly
        prod = units * 980665                       # in 1e-10 m/s^2, exactly
        sign = "-" if prod < 0 else ""
        prod = abs(prod)
        out.append(f"{sign}{prod // 10**10}.{prod % 10**10:010d}")
    return out


def iso(t_s, offset_h=None, sep=" "):
    """UTC date-time text of 2024-03-01 23:00:00 + t_s, or local time at offset_h."""
    base = 1709334000  # 2024-03-01 23:00:00 UTC
    shift = 0 if offset_h is None else offset_h * 3600
    ms = round((base + t_s + shift) * 1000)
    s, milli = divmod(ms, 1000)
    days, rest = divmod(s, 86400)
    # days since 1970-01-01 to a date (small range: March 2024)
    y, m, d = 2024, 3, 1 + days - 19783
    hh, rest = divmod(rest, 3600)
    mm, ss = divmod(rest, 60)
    text = f"{y:04d}-{m:02d}-{d:02d}{sep}{hh:02d}:{mm:02d}:{ss:02d}.{milli:03d}"
    if offset_h is not None:
        text += f"{'+' if offset_h >= 0 else '-'}{abs(offset_h):02d}:00"
    return text


def small():
    r100 = rows_g(3000, 100)
    write("synthetic_g_100hz.csv", lines("t,x,y,z", r100))
    write("synthetic_ms2_100hz.csv", lines("t,x,y,z", [(t, times_ms2(xyz)) for t, xyz in r100]))
    write("noheader_100hz.csv", lines(None, r100[:1000]))
    write("crlf_bom_100hz.csv", "\ufeff" + lines("T,X,Y,Z", r100[:1000], end="\r\n"))
    extra = ["id,Acc_Z,temp_c,Time,acc_y,ACC_X,label"]
    for i, (t, (x, y, z)) in enumerate(r100[:1000]):
        label = '"still, supine"' if i % 500 < 250 else "moving"
        extra.append(f"{i},{z},31.5,{t},{y},{x},{label}")
    write("extra_columns_any_order.csv", "\n".join(extra) + "\n")

    # 50 Hz, 20 s of ISO-8601 date-times: naive (taken as UTC) and with a +01:00 offset,
    # both for the same instants.
    r50 = rows_g(1000, 50)
    naive = ["timestamp,acc_x,acc_y,acc_z"]
    offset = ["time,ax,ay,az"]
    for i, (_, xyz) in enumerate(r50):
        naive.append(",".join([iso(i / 50)] + xyz))
        offset.append(",".join([iso(i / 50, offset_h=1, sep="T")] + xyz))
    write("iso_naive_50hz.csv", "\n".join(naive) + "\n")
    write("iso_offset_50hz.csv", "\n".join(offset) + "\n")

    # 100 Hz: 10 s, a 2.5 s gap, 10 s.
    gap = ["t,x,y,z"]
    for i in range(2000):
        t_cs = i if i < 1000 else i + 250
        x, y, z = motion(t_cs / 100)
        gap.append(f"{t_cs // 100}.{t_cs % 100:02d},{x:.5f},{y:.5f},{z:.5f}")
    write("gap_100hz.csv", "\n".join(gap) + "\n")

    bad()


def bad():
    r = rows_g(60, 100)

    def body(rows):
        return [",".join([t] + xyz) for t, xyz in rows]

    def put(name, header, rows, end="\n"):
        write(os.path.join("bad", name), "\n".join(([header] if header else []) + rows) + end)

    write("bad/empty.csv", "")
    put("header_only.csv", "t,x,y,z", [])
    put("missing_time.csv", "x,y,z", [",".join(xyz) for _, xyz in r])
    put("missing_axis.csv", "t,x,y", [",".join([t] + xyz[:2]) for t, xyz in r])
    rows = body(r)
    rows[10] = f"{r[10][0]},0.1,--,0.9"                  # line 12
    put("not_a_number.csv", "t,x,y,z", rows)
    rows = body(r)
    rows[13] = f"{r[13][0]},0.1,0.2,nan"                 # line 15
    put("nan.csv", "t,x,y,z", rows)
    rows = body(r)
    rows[7] = f"{r[7][0]},-inf,0.2,0.9"                  # line 9
    put("inf.csv", "t,x,y,z", rows)
    rows = body(r)
    rows[18] = f"{r[18][0]},65.0,0.2,0.9"                # line 20
    put("out_of_range_g.csv", "t,x,y,z", rows)
    rows = [",".join([t] + times_ms2(xyz)) for t, xyz in r]
    rows[18] = f"{r[18][0]},1.0,640.0,9.0"               # line 20
    put("out_of_range_ms2.csv", "t,x_ms2,y_ms2,z_ms2", rows)
    rows = body(r)
    rows[23] = ",".join([r[21][0]] + r[23][1])           # line 25: back to line 23's time
    put("time_backwards.csv", "t,x,y,z", rows)
    rows = body(r)
    rows[23] = ",".join([r[22][0]] + r[23][1])           # line 25: line 24's time again
    put("time_repeats.csv", "t,x,y,z", rows)
    rows = body(r)
    rows[16] = ",".join([r[16][0]] + r[16][1][:2])       # line 18: three fields
    put("short_row.csv", "t,x,y,z", rows)
    rows = body(r)
    rows[37] = "\x00\x00\x13\x07PK\x03\x04\x00"          # line 39
    put("garbage_mid_file.csv", "t,x,y,z", rows)
    # Bytes from a fixed linear congruential sequence, starting like a device file.
    state, garbage = 12345, bytearray(b"MD\x00\x02")
    for _ in range(2044):
        state = (state * 1103515245 + 12345) % 2**31
        garbage.append(state >> 23)
    write("bad/binary_garbage.csv", bytes(garbage), mode="wb")
    rows = body(r[:50]) + ["0.50,0.0"]                   # line 52, no line break
    put("cut_last_row.csv", "t,x,y,z", rows, end="")
    rows = [",".join([f"{i}.0"] + motion_text(i)) for i in range(60)]
    put("rate_too_low.csv", "t,x,y,z", rows)
    rows = [",".join([iso(i / 50)] + xyz) for i, (_, xyz) in enumerate(rows_g(30, 50))]
    rows[5] = rows[5].replace("23:00:00.100", "23:00:61.100")   # line 7
    put("bad_iso_time.csv", "time,x,y,z", rows)
    put("mixed_units.csv", "t,x_g,y_ms2,z", body(r))
    put("five_numbers_no_header.csv", None, [",".join([t] + xyz + ["1"]) for t, xyz in r])


def motion_text(t):
    return [f"{v:.5f}" for v in motion(t)]


def excerpts(shared):
    data = os.path.join(shared, "data")

    def cut(src, dst, seconds):
        with open(os.path.join(data, src)) as f:
            header = f.readline()
            out = [header]
            t0 = None
            for line in f:
                t = float(line.split(",", 1)[0])
                t0 = t if t0 is None else t0
                if t - t0 >= seconds:
                    break
                out.append(line)
        write(dst, "".join(out))

    cut("ax3_right_wrist_100hz_3min.csv", "ax3_right_wrist_100hz_1min.csv", 60)
    cut("matrix_100hz_6min_mostly_still.csv", "matrix_100hz_1min_still.csv", 60)
    cut("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.csv", "actigraph_30hz_idle_gaps_10min.csv", 630)
    cut("geneactiv_85p7hz_1min.csv", "geneactiv_85p7hz_1min.csv", 1e9)

    # 10 minutes of a generated 8 h ankle night, 2280-2880 s: a run of periodic leg
    # movements; the truth file lists the events that start inside it.
    with tempfile.TemporaryDirectory() as tmp:
        night, truth = os.path.join(tmp, "night.csv"), os.path.join(tmp, "truth.csv")
        subprocess.run([sys.executable, os.path.join(shared, "bench", "gen_night.py"), night,
                        "--hours", "8", "--rate", "100", "--seed", "1", "--truth", truth],
                       check=True)
        for src, dst in [(night, "night_ankle_100hz_10min.csv.gz"),
                         (truth, "night_ankle_100hz_10min_truth.csv")]:
            with open(src) as f:
                header = f.readline()
                keep = [l for l in f if 2280 <= float(l.split(",", 1)[0]) < 2880]
            if dst.endswith(".gz"):
                write_gz(dst, (header + "".join(keep)).encode())
            else:
                write(dst, header + "".join(keep))


def simulated():
    """90 minutes of a simulated ankle night at 50 Hz (moderate PLMs, sleep onset with
    hypnic jerks, awakenings), gzip-compressed, with its truth: the night the README's
    first command analyses."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["cargo", "run", "--quiet", "--release", "--example", "simulate", "--",
                        "--seed", "3", "--hours", "1.5", "--rate", "50", "--site", "ankle",
                        "--severity", "moderate", tmp], check=True, cwd=os.path.dirname(HERE))
        name = "sim_ankle_50hz_90min"
        with open(os.path.join(tmp, "night.csv"), "rb") as f:
            write_gz(name + ".csv.gz", f.read())
        for ext in ["truth.csv", "truth.json"]:
            with open(os.path.join(tmp, "night." + ext)) as f:
                write(name + "." + ext, f.read())


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "small":
        small()
    elif len(sys.argv) == 3 and sys.argv[1] == "excerpts":
        excerpts(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "simulated":
        simulated()
    else:
        sys.exit(__doc__)
