"""Plausible wrong answers for projects_tfmicro_speech/01_keyword_spotting.

Each entry replaces the answer cell ``quantize_input``; the submission must then lose exactly the
points of ``quantize_input__test`` (the notebook's only graded test).
"""


def _answer(body: str) -> str:
    return (
        "def quantize_input(spectrogram, scale, zero_point):\n"
        '    """The int8 input codes of a float spectrogram."""\n'
        "    x = np.asarray(spectrogram, dtype=np.float64)\n" + body
    )


_ALL = [
    # multiplies by the scale instead of dividing by it
    dict(
        cell="quantize_input",
        source=_answer("    return np.clip(np.round(x * scale) + zero_point, -128, 127).astype(np.int8)\n"),
        loses=["quantize_input__test"],
    ),
    # subtracts the zero point (the dequantization direction) instead of adding it
    dict(
        cell="quantize_input",
        source=_answer("    return np.clip(np.round(x / scale) - zero_point, -128, 127).astype(np.int8)\n"),
        loses=["quantize_input__test"],
    ),
    # no clipping: np.int8 wraps 130 around to -126
    dict(
        cell="quantize_input",
        source=_answer("    return (np.round(x / scale) + zero_point).astype(np.int64).astype(np.int8)\n"),
        loses=["quantize_input__test"],
    ),
    # no rounding: the cast truncates towards zero
    dict(
        cell="quantize_input",
        source=_answer("    return np.clip(x / scale + zero_point, -128, 127).astype(np.int8)\n"),
        loses=["quantize_input__test"],
    ),
    # floor instead of round
    dict(
        cell="quantize_input",
        source=_answer("    return np.clip(np.floor(x / scale) + zero_point, -128, 127).astype(np.int8)\n"),
        loses=["quantize_input__test"],
    ),
    # clips before adding the zero point (the codes of large values pass 127)
    dict(
        cell="quantize_input",
        source=_answer(
            "    return (np.clip(np.round(x / scale), -128, 127) + zero_point).astype(np.int64).astype(np.int8)\n"
        ),
        loses=["quantize_input__test"],
    ),
    # modifies the caller's array in place
    dict(
        cell="quantize_input",
        source=(
            "def quantize_input(spectrogram, scale, zero_point):\n"
            '    """The int8 input codes of a float spectrogram."""\n'
            "    spectrogram /= scale\n"
            "    return np.clip(np.round(spectrogram) + zero_point, -128, 127).astype(np.int8)\n"
        ),
        loses=["quantize_input__test"],
    ),
]

# Graded through the sandbox (each is a full notebook run): scale multiplied, zero point subtracted,
# no clipping, no rounding. The others are kept as documented plausible mistakes.
_GRADED = (0, 1, 2, 3)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
