"""Plausible wrong answers for ch08_training_efficiency/04_batchnorm_and_compress.

Each entry replaces the answer cell ``fold_batchnorm`` and loses its one test cell
``fold_batchnorm__test``: the visible test compares the folded convolution's output with
``bn(conv(x), training=False)`` on random layers whose variances (0.002 to 0.05) are far from 1
and comparable to epsilon (0.001), with gammas far from 1, for ``use_bias=False`` and ``True``.
The graded one divides by the variance instead of the standard deviation; the others (checked
in-process) forget epsilon, use ``conv.bias`` whether or not it exists, drop an existing conv
bias, scale the kernel without gamma (gamma only in the bias), broadcast the scale over the
kernel's input-channel axis, and subtract the mean after scaling.
"""

_HEAD = '''
def fold_batchnorm(conv, bn):
    """A wrong version."""
    kernel = conv.kernel.numpy()
    gamma, beta = bn.gamma.numpy(), bn.beta.numpy()
    mean, var, eps = bn.moving_mean.numpy(), bn.moving_variance.numpy(), bn.epsilon
'''


def _fold(body: str) -> str:
    return (_HEAD + body).strip("\n")


_BIAS = "    bias = conv.bias.numpy() if conv.use_bias else np.zeros(kernel.shape[-1])\n"

_ALL = [
    # the variance instead of the standard deviation
    dict(
        cell="fold_batchnorm",
        source=_fold(
            _BIAS
            + """\
    scale = gamma / (var + eps)
    return (kernel * scale).astype("float32"), (beta + (bias - mean) * scale).astype("float32")"""
        ),
        loses=["fold_batchnorm__test"],
    ),
    # forgets epsilon
    dict(
        cell="fold_batchnorm",
        source=_fold(
            _BIAS
            + """\
    scale = gamma / np.sqrt(var)
    return (kernel * scale).astype("float32"), (beta + (bias - mean) * scale).astype("float32")"""
        ),
        loses=["fold_batchnorm__test"],
    ),
    # uses conv.bias even when use_bias=False (it is None then)
    dict(
        cell="fold_batchnorm",
        source=_fold("""\
    scale = gamma / np.sqrt(var + eps)
    return (kernel * scale).astype("float32"), (beta + (conv.bias.numpy() - mean) * scale).astype("float32")"""),
        loses=["fold_batchnorm__test"],
    ),
    # drops an existing conv bias
    dict(
        cell="fold_batchnorm",
        source=_fold("""\
    scale = gamma / np.sqrt(var + eps)
    return (kernel * scale).astype("float32"), (beta - mean * scale).astype("float32")"""),
        loses=["fold_batchnorm__test"],
    ),
    # gamma folded into the bias only: the kernel is divided by the standard deviation alone
    dict(
        cell="fold_batchnorm",
        source=_fold(
            _BIAS
            + """\
    std = np.sqrt(var + eps)
    return (kernel / std).astype("float32"), (beta + (bias - mean) * gamma / std).astype("float32")"""
        ),
        loses=["fold_batchnorm__test"],
    ),
    # broadcasts the per-channel scale over the kernel's input-channel axis
    dict(
        cell="fold_batchnorm",
        source=_fold(
            _BIAS
            + """\
    scale = gamma / np.sqrt(var + eps)
    return (kernel * scale.reshape(1, 1, -1, 1)).astype("float32"), (beta + (bias - mean) * scale).astype("float32")"""
        ),
        loses=["fold_batchnorm__test"],
    ),
    # shifts by the mean after scaling (beta + b * s - mean)
    dict(
        cell="fold_batchnorm",
        source=_fold(
            _BIAS
            + """\
    scale = gamma / np.sqrt(var + eps)
    return (kernel * scale).astype("float32"), (beta + bias * scale - mean).astype("float32")"""
        ),
        loses=["fold_batchnorm__test"],
    ),
]

# found by a tester: epsilon hard-coded to Keras' default 1e-3 (only the hidden tests vary epsilon)
_ALL.append(
    dict(
        cell="fold_batchnorm",
        source="""def fold_batchnorm(conv, bn):
    s = bn.gamma.numpy() / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    b = conv.bias.numpy() if conv.use_bias else 0
    return conv.kernel.numpy() * s, bn.beta.numpy() + (b - bn.moving_mean.numpy()) * s
""",
        loses=["fold_batchnorm__test"],
    )
)

# The suite grades one wrong answer through the sandbox (each costs a run of the notebook's cut);
# the others are MORE_WRONG_ANSWERS, checked in-process to lose exactly their cell.
WRONG_ANSWERS = _ALL[:1]
MORE_WRONG_ANSWERS = _ALL[1:]
