"""Generate the tabular benchmark ``effcourse/search/nasbench_digits.csv`` (chapter 7, lesson 2).

Trains every network of the cell space of :mod:`effcourse.search.nasbench` (334 unique cells:
5 nodes, ops conv3x3 / conv1x1 / maxpool3x3, at most 5 edges after pruning, isomorphic cells
once) on the 8x8 digits with 2 seeds, using :func:`effcourse.search.nasbench.train_cell`, and
writes one row per network: encoding, hash, nodes, edges, parameters, FLOPs, validation and test
accuracy (mean of the 2 seeds, and each seed's validation accuracy) and training CPU seconds
(mean of the 2 seeds).

Resumable: each training is appended to ``<out>.runs.csv`` as it finishes; a rerun skips the
(cell, seed) pairs already in any ``<out>.runs*.csv`` and the table is written from those files at
the end. A second worker (``--reverse --worker 2``) trains the missing cells from the other end
into ``<out>.runs2.csv``; stop the first when they meet, then rerun once to write the table. Run it niced,
one TensorFlow thread (the default here), not from the notebook::

    $ nice -n 10 .venv/bin/python scripts/make_nasbench.py

Recorded generation cost of the shipped table (2026-12-03, a 2-core machine shared with other
jobs at load average 5-9, one TensorFlow thread per worker, a second worker from minute 11):
35.7 min wall, 981 CPU-s of training in all (0.3-2.5 CPU-s per training, more for cells with more
3x3 convolutions). Eight (cell, seed) pairs were trained by both workers, in separate processes:
identical accuracies. Details in ``effcourse/search/nasbench_digits.meta.json``; the script also
prints a ``generation`` line and writes it to ``<out>.lastrun.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from effcourse.search import nasbench

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "effcourse" / "search" / nasbench.TABLE
SEEDS = (0, 1)
RUN_FIELDS = ["hash", "seed", "val_accuracy", "test_accuracy", "train_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--limit", type=int, default=None, help="train only the first N cells (a quick check)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reverse", action="store_true", help="train the missing cells last-first (a second worker)")
    parser.add_argument("--worker", default="", help="suffix of this worker's runs file, e.g. 2 -> <out>.runs2.csv")
    args = parser.parse_args()

    import tensorflow as tf
    from tqdm.auto import tqdm

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    wall0, cpu0 = time.time(), time.process_time()
    cells = nasbench.enumerate_space()[: args.limit]
    runs_path = args.out.with_suffix(f".runs{args.worker}.csv")
    done: dict[tuple[str, int], dict[str, str]] = {}
    for path in sorted(args.out.parent.glob(args.out.stem + ".runs*.csv")):  # every worker's trainings
        with path.open() as f:
            for r in csv.DictReader(f):
                done[(r["hash"], int(r["seed"]))] = r
    nasbench.train_cell([[0, 1], [0, 0]], [], seed=999)  # trace once, outside the timed trainings
    new_file = not runs_path.exists()
    with runs_path.open("a", newline="") as f:
        writer = csv.DictWriter(f, RUN_FIELDS)
        if new_file:
            writer.writeheader()
        todo = [(m, o, h, s) for m, o, h in cells for s in SEEDS if (h, s) not in done]
        if args.reverse:
            todo = todo[::-1]
        for m, o, h, s in tqdm(todo, desc="train cells", mininterval=10):
            if (h, s) in done:  # another worker did it
                continue
            r = nasbench.train_cell(m, o, seed=s)
            row = {
                "hash": h,
                "seed": s,
                "val_accuracy": f"{r.val_accuracy:.6f}",
                "test_accuracy": f"{r.test_accuracy:.6f}",
                "train_seconds": f"{r.train_seconds:.4f}",
            }
            writer.writerow(row)
            f.flush()
            done[(h, s)] = {k: str(v) for k, v in row.items()}

    rows = []
    for m, o, h in cells:
        per = [done[(h, s)] for s in SEEDS]
        rows.append(
            {
                "encoding": nasbench.encode(m, o),
                "hash": h,
                "nodes": m.shape[0],
                "edges": int(m.sum()),
                "params": nasbench.count_params(m, o),
                "flops": nasbench.count_flops(m, o),
                "val_accuracy": round(float(np.mean([float(p["val_accuracy"]) for p in per])), 6),
                "test_accuracy": round(float(np.mean([float(p["test_accuracy"]) for p in per])), 6),
                **{f"val_accuracy_seed{s}": float(p["val_accuracy"]) for s, p in zip(SEEDS, per)},
                "train_seconds": round(float(np.mean([float(p["train_seconds"]) for p in per])), 4),
            }
        )
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    meta = {
        "cells": len(rows),
        "seeds": list(SEEDS),
        "trainings_this_run": len(todo),
        "wall_seconds_this_run": round(time.time() - wall0, 1),
        "cpu_seconds_this_run": round(time.process_time() - cpu0, 1),
        "sum_train_cpu_seconds": round(sum(float(p["train_seconds"]) for p in done.values()), 1),
        "threads": args.threads,
        "load_average_at_end": os.getloadavg(),
    }
    args.out.with_suffix(".lastrun.json").write_text(json.dumps(meta, indent=2) + "\n")
    print("generation", json.dumps(meta))


if __name__ == "__main__":
    main()
