"""Plausible wrong answers for projects_tflite_benchmark/01_benchmarking.

Each entry replaces the answer cell ``benchmark_loop``; the submission must then lose exactly the
points of ``benchmark_loop__test`` (the notebook's only graded test).
"""

_HEAD = 'def benchmark_loop(invoke, warmup=5, repeats=50, clock=time.perf_counter):\n    """Time invoke()."""\n'
_WARM = "    for _ in range(int(warmup)):\n        invoke()\n"
_TIMED = (
    "    times = []\n"
    "    for _ in range(int(repeats)):\n"
    "        start = clock()\n"
    "        invoke()\n"
    "        times.append((clock() - start) * 1000.0)\n"
    "    times = np.array(times)\n"
)
_RETURN = (
    '    return {"times_ms": times, "median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90))}\n'
)


def _answer(warm: str = _WARM, timed: str = _TIMED, ret: str = _RETURN) -> str:
    return _HEAD + warm + timed + ret


_ALL = [
    # the warm-up runs are timed too and included in the statistics
    dict(
        cell="benchmark_loop",
        source=_answer(
            warm="",
            timed=(
                "    times = []\n"
                "    for i in range(int(warmup) + int(repeats)):\n"
                "        start = clock()\n"
                "        invoke()\n"
                "        times.append((clock() - start) * 1000.0)\n"
                "    times = np.array(times)\n"
            ),
        ),
        loses=["benchmark_loop__test"],
    ),
    # the mean instead of the median
    dict(
        cell="benchmark_loop",
        source=_answer(
            ret='    return {"times_ms": times, "median_ms": float(np.mean(times)), "p90_ms": float(np.percentile(times, 90))}\n'
        ),
        loses=["benchmark_loop__test"],
    ),
    # the 90th percentile without interpolation (the nearest rank)
    dict(
        cell="benchmark_loop",
        source=_answer(
            ret='    return {"times_ms": times, "median_ms": float(np.median(times)), '
            '"p90_ms": float(np.percentile(times, 90, method="nearest"))}\n'
        ),
        loses=["benchmark_loop__test"],
    ),
    # the 90th percentile as sorted(times)[int(0.9 * n)]
    dict(
        cell="benchmark_loop",
        source=_answer(
            ret='    return {"times_ms": times, "median_ms": float(np.median(times)), '
            '"p90_ms": float(np.sort(times)[int(0.9 * len(times))])}\n'
        ),
        loses=["benchmark_loop__test"],
    ),
    # no warm-up at all
    dict(cell="benchmark_loop", source=_answer(warm=""), loses=["benchmark_loop__test"]),
    # seconds instead of milliseconds
    dict(
        cell="benchmark_loop",
        source=_answer(timed=_TIMED.replace(" * 1000.0", "")),
        loses=["benchmark_loop__test"],
    ),
    # ignores the clock argument and reads the real time
    dict(
        cell="benchmark_loop",
        source=_answer(timed=_TIMED.replace("clock()", "time.perf_counter()")),
        loses=["benchmark_loop__test"],
    ),
    # times the whole loop and divides by the number of repeats (every run gets the average)
    dict(
        cell="benchmark_loop",
        source=_answer(
            timed=(
                "    start = clock()\n"
                "    for _ in range(int(repeats)):\n"
                "        invoke()\n"
                "    times = np.full(int(repeats), (clock() - start) * 1000.0 / int(repeats))\n"
            )
        ),
        loses=["benchmark_loop__test"],
    ),
    # the durations returned sorted rather than in call order
    dict(
        cell="benchmark_loop",
        source=_answer(timed=_TIMED + "    times = np.sort(times)\n"),
        loses=["benchmark_loop__test"],
    ),
]

# found by a tester: a percentile method other than NumPy's default linear interpolation
_ALL.append(
    dict(
        cell="benchmark_loop",
        source="""def benchmark_loop(invoke, warmup=5, repeats=50, clock=time.perf_counter):
    for _ in range(warmup):
        invoke()
    times = []
    for _ in range(repeats):
        s = clock()
        invoke()
        times.append((clock() - s) * 1e3)
    times = np.array(times)
    return {"times_ms": times, "median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90, method="hazen"))}
""",
        loses=["benchmark_loop__test"],
    )
)

# Graded through the sandbox (a full notebook run): the warm-up runs included in the statistics.
# The others are checked in-process (tests/course/test_wrong_answers_in_process.py).
WRONG_ANSWERS = [_ALL[0]]
MORE_WRONG_ANSWERS = _ALL[1:]
