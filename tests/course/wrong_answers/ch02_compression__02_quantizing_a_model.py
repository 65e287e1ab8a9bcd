"""Plausible wrong answers for ch02_compression/02_quantizing_a_model: each must lose exactly `loses`.

The safe-grading suite runs the whole assignment once per entry of ``WRONG_ANSWERS`` (about a
minute each for this notebook), so it holds two (see ``_GRADED``): batches without the batch axis
and a forgotten input zero point. ``MORE_WRONG_ANSWERS`` (float64 batches and ``q - z`` computed in
int8, caught by hidden tests only; ``x * scale``; no clipping; an (N, N) label comparison; ...)
are kept for a longer run: ``WRONG_ANSWERS + MORE_WRONG_ANSWERS``.
"""

_REP_HEAD = '''def make_representative_dataset(x, num_samples=100):
    """A representative-dataset function for the TFLite converter."""
'''

_PREDICT_HEAD = '''def tflite_predict(tflite_model, x):
    """Run a TFLite model (float or int8 input/output) on float inputs, one example at a time."""
    interpreter = tflite.interpreter(tflite_model)
    input_details = interpreter.get_input_details()[0]
    output_details = interpreter.get_output_details()[0]
    outputs = []
'''


def _predict(
    quantize: str,
    dequantize: str = "output = scale * (output.astype(np.float32) - zero_point)",
    loop: str = "for example in np.asarray(x):\n        batch = example[np.newaxis].astype(np.float32)",
) -> str:
    return (
        _PREDICT_HEAD
        + f"""    {loop}
        if input_details["dtype"] == np.int8:
            scale, zero_point = input_details["quantization"]
            {quantize}
        interpreter.set_tensor(input_details["index"], batch)
        interpreter.invoke()
        output = interpreter.get_tensor(output_details["index"])[0]
        if output_details["dtype"] == np.int8:
            scale, zero_point = output_details["quantization"]
            {dequantize}
        outputs.append(output.astype(np.float32))
    return np.stack(outputs)
"""
    )


_GOOD_QUANTIZE = "batch = np.clip(np.round(batch / scale) + zero_point, -128, 127).astype(np.int8)"

_ALL = [
    # --- representative dataset
    dict(
        cell="representative_dataset",
        loses=["representative_dataset__test"],
        source=_REP_HEAD
        + """
    count = min(num_samples, len(x))

    def representative_dataset():
        yield [np.asarray(x[:count], dtype=np.float32)]   # one big batch instead of batches of one

    return representative_dataset
""",
    ),
    dict(
        cell="representative_dataset",
        loses=["representative_dataset__test"],
        source=_REP_HEAD
        + """
    count = min(num_samples, len(x))

    def representative_dataset():
        for i in range(count):
            yield [np.asarray(x[i], dtype=np.float32)]   # forgot the batch axis

    return representative_dataset
""",
    ),
    dict(
        cell="representative_dataset",
        loses=["representative_dataset__test"],
        source=_REP_HEAD
        + """
    count = min(num_samples, len(x))

    def representative_dataset():
        for i in range(count):
            yield [x[i:i + 1]]   # keeps float64 inputs as float64

    return representative_dataset
""",
    ),
    dict(
        cell="representative_dataset",
        loses=["representative_dataset__test"],
        source=_REP_HEAD
        + """
    def representative_dataset():
        for i in range(num_samples):
            yield [x[i:i + 1].astype(np.float32)]

    return representative_dataset()   # returns the generator, not the function
""",
    ),
    dict(
        cell="representative_dataset",
        loses=["representative_dataset__test"],
        source=_REP_HEAD
        + """
    rng = np.random.default_rng(0)

    def representative_dataset():
        for i in rng.integers(0, len(x), size=num_samples):   # with replacement, and too many
            yield [x[i:i + 1].astype(np.float32)]

    return representative_dataset
""",
    ),
    # --- running a quantized model
    dict(
        cell="tflite_predict",
        loses=["tflite_predict__test", "tflite_accuracy__test"],
        source=_predict("batch = np.clip(np.round(batch / scale), -128, 127).astype(np.int8)  # no zero point"),
    ),
    dict(
        cell="tflite_predict",
        loses=["tflite_predict__test", "tflite_accuracy__test"],
        source=_predict("batch = np.clip(np.round(batch * scale) + zero_point, -128, 127).astype(np.int8)"),
    ),
    dict(
        cell="tflite_predict",
        loses=["tflite_predict__test"],
        source=_predict("batch = (np.round(batch / scale) + zero_point).astype(np.int8)  # no clipping"),
    ),
    dict(
        cell="tflite_predict",
        loses=["tflite_predict__test"],
        source=_predict(_GOOD_QUANTIZE, dequantize="output = output.astype(np.float32)  # not dequantized"),
    ),
    dict(
        cell="tflite_predict",
        loses=["tflite_predict__test", "tflite_accuracy__test"],
        source=_predict(
            _GOOD_QUANTIZE,
            loop="for example in [np.asarray(x, dtype=np.float32)]:\n        batch = example   # the whole set at once",
        ),
    ),
    dict(
        # dequantizes in int8 arithmetic: under NumPy 2 an int8 array minus a Python int stays int8, so
        # q - z wraps around (the prose says to compute in float32); only the hidden tests catch it
        cell="tflite_predict",
        loses=["tflite_predict__test", "tflite_accuracy__test"],
        source=_predict(_GOOD_QUANTIZE, dequantize="output = ((output - zero_point) * scale).astype(np.float32)"),
    ),
    # --- accuracy
    dict(
        cell="tflite_accuracy",
        loses=["tflite_accuracy__test"],
        source='''
def tflite_accuracy(tflite_model, x, y):
    """Accuracy of a TFLite model on float inputs x (N, ...) and integer labels y (N,)."""
    predictions = tflite_predict(tflite_model, x)
    return float(100 * np.mean(np.argmax(predictions, axis=1) == np.asarray(y)))   # a percentage
''',
    ),
    dict(
        cell="tflite_accuracy",
        loses=["tflite_accuracy__test"],
        source='''
def tflite_accuracy(tflite_model, x, y):
    """Accuracy of a TFLite model on float inputs x (N, ...) and integer labels y (N,)."""
    predictions = tflite_predict(tflite_model, x)
    return float(np.mean(np.argmax(predictions, axis=1) == np.asarray(y).reshape(-1, 1)))   # (N, N) compare
''',
    ),
]

_GRADED = (1, 5)  # a wrong representative dataset; a missing zero point (each costs a sandboxed run)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
