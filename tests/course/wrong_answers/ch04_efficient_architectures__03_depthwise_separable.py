"""Plausible wrong answers for ch04_efficient_architectures/03_depthwise_separable.

Each entry replaces the answer cell ``conv_costs`` (all three functions; the ones not at fault are
right). A mistake in the cost functions loses ``conv_costs__test`` and keeps
``separable_ratio__test`` (which checks the ratio against measured MACs, never through the cost
functions); a mistake in the ratio loses only ``separable_ratio__test``. Every random shape the
tests draw has c_in >= 2, kernel_size >= 3 and both use_bias values, so each mistake shows on
every seed.
"""

_STANDARD = """
def standard_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    return height * width * kernel_size**2 * c_in * c_out, kernel_size**2 * c_in * c_out + (c_out if use_bias else 0)
"""
_SEPARABLE = """
def separable_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    return (height * width * kernel_size**2 * c_in + height * width * c_in * c_out,
            kernel_size**2 * c_in + c_in * c_out + (c_out if use_bias else 0))
"""
_RATIO = """
def separable_ratio(c_out, kernel_size):
    return 1.0 / c_out + 1.0 / kernel_size**2
"""


def _cell(standard: str = _STANDARD, separable: str = _SEPARABLE, ratio: str = _RATIO) -> str:
    return "\n".join(part.strip("\n") for part in (standard, separable, ratio))


_ALL = [
    # forgets the pointwise convolution: only the depthwise filter's cost
    dict(
        cell="conv_costs",
        source=_cell(
            separable="""
def separable_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    return height * width * kernel_size**2 * c_in, kernel_size**2 * c_in + (c_out if use_bias else 0)
"""
        ),
        loses=["conv_costs__test"],
    ),
    # a bias after the depthwise step too (a DepthwiseConv2D + Conv2D pair), not SeparableConv2D's
    dict(
        cell="conv_costs",
        source=_cell(
            separable="""
def separable_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    return (height * width * kernel_size**2 * c_in + height * width * c_in * c_out,
            kernel_size**2 * c_in + c_in * c_out + ((c_in + c_out) if use_bias else 0))
"""
        ),
        loses=["conv_costs__test"],
    ),
    # never counts biases
    dict(
        cell="conv_costs",
        source=_cell(
            standard="""
def standard_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    return height * width * kernel_size**2 * c_in * c_out, kernel_size**2 * c_in * c_out
"""
        ),
        loses=["conv_costs__test"],
    ),
    # always counts biases, even with use_bias=False
    dict(
        cell="conv_costs",
        source=_cell(
            standard="""
def standard_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    return height * width * kernel_size**2 * c_in * c_out, kernel_size**2 * c_in * c_out + c_out
"""
        ),
        loses=["conv_costs__test"],
    ),
    # counts the biases as MACs
    dict(
        cell="conv_costs",
        source=_cell(
            standard="""
def standard_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    bias = c_out if use_bias else 0
    return height * width * (kernel_size**2 * c_in * c_out + bias), kernel_size**2 * c_in * c_out + bias
"""
        ),
        loses=["conv_costs__test"],
    ),
    # D_K instead of D_K**2 in the costs
    dict(
        cell="conv_costs",
        source=_cell(
            standard="""
def standard_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    return height * width * kernel_size * c_in * c_out, kernel_size * c_in * c_out + (c_out if use_bias else 0)
"""
        ),
        loses=["conv_costs__test"],
    ),
    # a depthwise filter per output channel (c_out instead of c_in)
    dict(
        cell="conv_costs",
        source=_cell(
            separable="""
def separable_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    return (height * width * kernel_size**2 * c_out + height * width * c_in * c_out,
            kernel_size**2 * c_out + c_in * c_out + (c_out if use_bias else 0))
"""
        ),
        loses=["conv_costs__test"],
    ),
    # MACs without the output positions (per-position cost)
    dict(
        cell="conv_costs",
        source=_cell(
            separable="""
def separable_conv_cost(height, width, c_in, c_out, kernel_size, use_bias=True):
    return kernel_size**2 * c_in + c_in * c_out, kernel_size**2 * c_in + c_in * c_out + (c_out if use_bias else 0)
"""
        ),
        loses=["conv_costs__test"],
    ),
    # the ratio inverted: standard / separable
    dict(
        cell="conv_costs",
        source=_cell(
            ratio="""
def separable_ratio(c_out, kernel_size):
    return 1.0 / (1.0 / c_out + 1.0 / kernel_size**2)
"""
        ),
        loses=["separable_ratio__test"],
    ),
    # D_K instead of D_K**2 in the ratio
    dict(
        cell="conv_costs",
        source=_cell(
            ratio="""
def separable_ratio(c_out, kernel_size):
    return 1.0 / c_out + 1.0 / kernel_size
"""
        ),
        loses=["separable_ratio__test"],
    ),
    # forgets the 1/N term (the pointwise part of the ratio)
    dict(
        cell="conv_costs",
        source=_cell(
            ratio="""
def separable_ratio(c_out, kernel_size):
    return 1.0 / kernel_size**2
"""
        ),
        loses=["separable_ratio__test"],
    ),
]

# One graded through the sandbox (a full notebook run each); the rest are checked in-process
# (tests/course/test_wrong_answers_in_process.py), each to lose exactly its cells.
WRONG_ANSWERS = _ALL[:1]
MORE_WRONG_ANSWERS = _ALL[1:]
