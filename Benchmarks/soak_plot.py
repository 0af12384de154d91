"""Draws Benchmarks/soak.sh's samples: python3 Benchmarks/soak_plot.py SAMPLES.csv OUT.png.
Prints the samples as a Markdown table (one row a minute) and the result line."""
import csv, sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

source, target = sys.argv[1], sys.argv[2]
lines = open(source).read().splitlines()
result = next((line for line in lines if line.startswith("RESULT ")), "RESULT (none: the run did not finish)")
rows = list(csv.DictReader(line for line in lines if not line.startswith("RESULT ")))
seconds = [int(row["seconds"]) / 60 for row in rows]
series = [("rss_mib", "RSS (MiB)"), ("descriptors", "open descriptors"), ("wal_mib", "WAL (MiB)"),
          ("queue_depth", "queue depth (events)"), ("accepted", "accepted per sample")]
figure, axes = plt.subplots(len(series), 1, figsize=(9, 11), sharex=True)
for axis, (column, label) in zip(axes, series):
    axis.plot(seconds, [float(row[column]) for row in rows], linewidth=1.2)
    axis.set_ylabel(label, fontsize=8)
    axis.grid(alpha=0.3)
    slow = [m for m, row in zip(seconds, rows) if row["phase"] == "slow"]
    if slow:
        axis.axvspan(min(slow), max(slow), color="orange", alpha=0.15)
axes[0].set_title("Relevo soak (SQLite); shaded: the panel is slow", fontsize=10)
axes[-1].set_xlabel("minutes")
figure.tight_layout()
figure.savefig(target, dpi=90)

print("| minute | phase | RSS MiB | descriptors | WAL MiB | queue depth | accepted/sample | refused/sample |")
print("|---:|---|---:|---:|---:|---:|---:|---:|")
step = max(1, len(rows) // 40)
for row in rows[::step]:
    print(f"| {int(row['seconds']) / 60:.1f} | {row['phase']} | {row['rss_mib']} | {row['descriptors']} | {row['wal_mib']} "
          f"| {row['queue_depth']} | {row['accepted']} | {row['refused']} |")
print(result)
