"""Plausible wrong answers for ch01_introduction/01_efficiency_mental_model.

Each entry replaces one answer cell of the notebook with a full replacement source; the grading
suite checks that the submission then loses exactly the points of the test cells in ``loses``
and keeps the others. The three answer cells are independent of each other.

The suite runs the whole notebook once per entry of ``WRONG_ANSWERS`` (about a minute each), so
it holds one per exercise: a forgotten bias, MACs counted instead of FLOPs, and strict
comparisons that keep dominated ties on the Pareto front. ``MORE_WRONG_ANSWERS`` were checked by
running each answer with its test cell (visible and hidden tests, several check seeds): each
fails it. Grade them too with ``WRONG_ANSWERS + MORE_WRONG_ANSWERS`` in a longer run.
"""

WRONG_ANSWERS = [
    # forgetting the bias: only the weight matrix is counted
    dict(
        cell="dense_layer",
        loses=["dense_layer__test"],
        source='''\
def dense_params(units_in: int, units_out: int, use_bias: bool = True) -> int:
    """The number of parameters of a Dense layer from `units_in` inputs to `units_out` outputs.

    Args:
        units_in: the size of the input vector.
        units_out: the number of outputs (the layer's `units`).
        use_bias: whether the layer has a bias vector.

    Returns:
        The number of weights plus biases, as a Python int.
    """
    return units_in * units_out


def dense_flops(units_in: int, units_out: int) -> int:
    """The FLOPs of a Dense layer for one example: 2 x multiply-accumulates (bias adds not counted).

    Args:
        units_in: the size of the input vector.
        units_out: the number of outputs.

    Returns:
        The number of floating-point operations, as a Python int.
    """
    return 2 * units_in * units_out''',
    ),
    # counting MACs instead of FLOPs in Conv2D
    dict(
        cell="conv2d_layer",
        loses=["conv2d_layer__test"],
        source='''\
import math


def conv2d_output_size(size_in: int, kernel_size: int, stride: int = 1, padding: str = "valid") -> int:
    """The output height (or width) of a Conv2D layer along one axis, as Keras computes it.

    Args:
        size_in: the input height (or width).
        kernel_size: the kernel height (or width).
        stride: the step between two positions of the kernel.
        padding: "valid" (no padding) or "same" (zero padding).

    Returns:
        The output size, as a Python int.
    """
    if padding == "valid":
        return (size_in - kernel_size) // stride + 1
    if padding == "same":
        return math.ceil(size_in / stride)
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def conv2d_params(kernel_size: int, c_in: int, c_out: int, use_bias: bool = True) -> int:
    """The number of parameters of a Conv2D layer with `c_out` filters of kernel_size x kernel_size x c_in.

    Returns:
        The number of weights plus biases, as a Python int.
    """
    return kernel_size * kernel_size * c_in * c_out + (c_out if use_bias else 0)


def conv2d_flops(h_in: int, w_in: int, kernel_size: int, c_in: int, c_out: int,
                 stride: int = 1, padding: str = "valid") -> int:
    """The FLOPs of a Conv2D layer for one example: 2 x multiply-accumulates (bias adds not counted).

    Args:
        h_in: the input height.
        w_in: the input width.
        kernel_size: the kernel height and width.
        c_in: the number of input channels.
        c_out: the number of filters (output channels).
        stride: the stride on both axes.
        padding: "valid" or "same".

    Returns:
        The number of floating-point operations, as a Python int.
    """
    h_out = conv2d_output_size(h_in, kernel_size, stride, padding)
    w_out = conv2d_output_size(w_in, kernel_size, stride, padding)
    return h_out * w_out * kernel_size * kernel_size * c_in * c_out''',
    ),
    # strict < and > on both axes: dominated ties (same cost, lower quality) are kept
    dict(
        cell="pareto_optimal",
        loses=["pareto_optimal__test"],
        source='''\
def pareto_optimal(table: pd.DataFrame, cost: str = "size", quality: str = "accuracy") -> list[str]:
    """The names of the Pareto-optimal models of `table`, cheapest first.

    A row is Pareto-optimal when no other row has a cost <= its cost and a quality >= its
    quality while being strictly better in at least one of the two.

    Args:
        table: one row per model, with a "name" column and the `cost` and `quality` columns.
        cost: the column where lower is better (e.g. "size", "flops", "latency_ms").
        quality: the column where higher is better (e.g. "accuracy").

    Returns:
        A list of the names (str) of the Pareto-optimal rows, sorted by increasing cost.
    """
    costs = table[cost].to_numpy()
    qualities = table[quality].to_numpy()
    names = table["name"].to_numpy()
    front = []
    for i in range(len(table)):
        no_worse = (costs < costs[i]) & (qualities > qualities[i])
        strictly_better = (costs < costs[i]) | (qualities > qualities[i])
        if not np.any(no_worse & strictly_better):
            front.append(i)
    front.sort(key=lambda i: costs[i])
    return [str(names[i]) for i in front]''',
    ),
]

MORE_WRONG_ANSWERS = [
    # counting MACs instead of FLOPs (the factor 2 of multiply + add is missing)
    dict(
        cell="dense_layer",
        loses=["dense_layer__test"],
        source='''\
def dense_params(units_in: int, units_out: int, use_bias: bool = True) -> int:
    """The number of parameters of a Dense layer from `units_in` inputs to `units_out` outputs.

    Args:
        units_in: the size of the input vector.
        units_out: the number of outputs (the layer's `units`).
        use_bias: whether the layer has a bias vector.

    Returns:
        The number of weights plus biases, as a Python int.
    """
    return units_in * units_out + (units_out if use_bias else 0)


def dense_flops(units_in: int, units_out: int) -> int:
    """The FLOPs of a Dense layer for one example: 2 x multiply-accumulates (bias adds not counted).

    Args:
        units_in: the size of the input vector.
        units_out: the number of outputs.

    Returns:
        The number of floating-point operations, as a Python int.
    """
    return units_in * units_out''',
    ),
    # counting the bias adds as FLOPs: not the course's convention (FLOPs = 2 x MACs)
    dict(
        cell="dense_layer",
        loses=["dense_layer__test"],
        source='''\
def dense_params(units_in: int, units_out: int, use_bias: bool = True) -> int:
    """The number of parameters of a Dense layer from `units_in` inputs to `units_out` outputs.

    Args:
        units_in: the size of the input vector.
        units_out: the number of outputs (the layer's `units`).
        use_bias: whether the layer has a bias vector.

    Returns:
        The number of weights plus biases, as a Python int.
    """
    return units_in * units_out + (units_out if use_bias else 0)


def dense_flops(units_in: int, units_out: int) -> int:
    """The FLOPs of a Dense layer for one example: 2 x multiply-accumulates (bias adds not counted).

    Args:
        units_in: the size of the input vector.
        units_out: the number of outputs.

    Returns:
        The number of floating-point operations, as a Python int.
    """
    return 2 * units_in * units_out + units_out''',
    ),
    # floor instead of ceiling for 'same' padding with a stride
    dict(
        cell="conv2d_layer",
        loses=["conv2d_layer__test"],
        source='''\
import math


def conv2d_output_size(size_in: int, kernel_size: int, stride: int = 1, padding: str = "valid") -> int:
    """The output height (or width) of a Conv2D layer along one axis, as Keras computes it.

    Args:
        size_in: the input height (or width).
        kernel_size: the kernel height (or width).
        stride: the step between two positions of the kernel.
        padding: "valid" (no padding) or "same" (zero padding).

    Returns:
        The output size, as a Python int.
    """
    if padding == "valid":
        return (size_in - kernel_size) // stride + 1
    if padding == "same":
        return size_in // stride
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def conv2d_params(kernel_size: int, c_in: int, c_out: int, use_bias: bool = True) -> int:
    """The number of parameters of a Conv2D layer with `c_out` filters of kernel_size x kernel_size x c_in.

    Returns:
        The number of weights plus biases, as a Python int.
    """
    return kernel_size * kernel_size * c_in * c_out + (c_out if use_bias else 0)


def conv2d_flops(h_in: int, w_in: int, kernel_size: int, c_in: int, c_out: int,
                 stride: int = 1, padding: str = "valid") -> int:
    """The FLOPs of a Conv2D layer for one example: 2 x multiply-accumulates (bias adds not counted).

    Args:
        h_in: the input height.
        w_in: the input width.
        kernel_size: the kernel height and width.
        c_in: the number of input channels.
        c_out: the number of filters (output channels).
        stride: the stride on both axes.
        padding: "valid" or "same".

    Returns:
        The number of floating-point operations, as a Python int.
    """
    h_out = conv2d_output_size(h_in, kernel_size, stride, padding)
    w_out = conv2d_output_size(w_in, kernel_size, stride, padding)
    return 2 * h_out * w_out * kernel_size * kernel_size * c_in * c_out''',
    ),
    # ignoring the stride for 'valid' padding
    dict(
        cell="conv2d_layer",
        loses=["conv2d_layer__test"],
        source='''\
import math


def conv2d_output_size(size_in: int, kernel_size: int, stride: int = 1, padding: str = "valid") -> int:
    """The output height (or width) of a Conv2D layer along one axis, as Keras computes it.

    Args:
        size_in: the input height (or width).
        kernel_size: the kernel height (or width).
        stride: the step between two positions of the kernel.
        padding: "valid" (no padding) or "same" (zero padding).

    Returns:
        The output size, as a Python int.
    """
    if padding == "valid":
        return size_in - kernel_size + 1
    if padding == "same":
        return math.ceil(size_in / stride)
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def conv2d_params(kernel_size: int, c_in: int, c_out: int, use_bias: bool = True) -> int:
    """The number of parameters of a Conv2D layer with `c_out` filters of kernel_size x kernel_size x c_in.

    Returns:
        The number of weights plus biases, as a Python int.
    """
    return kernel_size * kernel_size * c_in * c_out + (c_out if use_bias else 0)


def conv2d_flops(h_in: int, w_in: int, kernel_size: int, c_in: int, c_out: int,
                 stride: int = 1, padding: str = "valid") -> int:
    """The FLOPs of a Conv2D layer for one example: 2 x multiply-accumulates (bias adds not counted).

    Args:
        h_in: the input height.
        w_in: the input width.
        kernel_size: the kernel height and width.
        c_in: the number of input channels.
        c_out: the number of filters (output channels).
        stride: the stride on both axes.
        padding: "valid" or "same".

    Returns:
        The number of floating-point operations, as a Python int.
    """
    h_out = conv2d_output_size(h_in, kernel_size, stride, padding)
    w_out = conv2d_output_size(w_in, kernel_size, stride, padding)
    return 2 * h_out * w_out * kernel_size * kernel_size * c_in * c_out''',
    ),
    # forgetting the Conv2D bias
    dict(
        cell="conv2d_layer",
        loses=["conv2d_layer__test"],
        source='''\
import math


def conv2d_output_size(size_in: int, kernel_size: int, stride: int = 1, padding: str = "valid") -> int:
    """The output height (or width) of a Conv2D layer along one axis, as Keras computes it.

    Args:
        size_in: the input height (or width).
        kernel_size: the kernel height (or width).
        stride: the step between two positions of the kernel.
        padding: "valid" (no padding) or "same" (zero padding).

    Returns:
        The output size, as a Python int.
    """
    if padding == "valid":
        return (size_in - kernel_size) // stride + 1
    if padding == "same":
        return math.ceil(size_in / stride)
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def conv2d_params(kernel_size: int, c_in: int, c_out: int, use_bias: bool = True) -> int:
    """The number of parameters of a Conv2D layer with `c_out` filters of kernel_size x kernel_size x c_in.

    Returns:
        The number of weights plus biases, as a Python int.
    """
    return kernel_size * kernel_size * c_in * c_out


def conv2d_flops(h_in: int, w_in: int, kernel_size: int, c_in: int, c_out: int,
                 stride: int = 1, padding: str = "valid") -> int:
    """The FLOPs of a Conv2D layer for one example: 2 x multiply-accumulates (bias adds not counted).

    Args:
        h_in: the input height.
        w_in: the input width.
        kernel_size: the kernel height and width.
        c_in: the number of input channels.
        c_out: the number of filters (output channels).
        stride: the stride on both axes.
        padding: "valid" or "same".

    Returns:
        The number of floating-point operations, as a Python int.
    """
    h_out = conv2d_output_size(h_in, kernel_size, stride, padding)
    w_out = conv2d_output_size(w_in, kernel_size, stride, padding)
    return 2 * h_out * w_out * kernel_size * kernel_size * c_in * c_out''',
    ),
    # kernel counted once instead of k x k (kernel_size instead of kernel_size**2) in the FLOPs
    dict(
        cell="conv2d_layer",
        loses=["conv2d_layer__test"],
        source='''\
import math


def conv2d_output_size(size_in: int, kernel_size: int, stride: int = 1, padding: str = "valid") -> int:
    """The output height (or width) of a Conv2D layer along one axis, as Keras computes it.

    Args:
        size_in: the input height (or width).
        kernel_size: the kernel height (or width).
        stride: the step between two positions of the kernel.
        padding: "valid" (no padding) or "same" (zero padding).

    Returns:
        The output size, as a Python int.
    """
    if padding == "valid":
        return (size_in - kernel_size) // stride + 1
    if padding == "same":
        return math.ceil(size_in / stride)
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def conv2d_params(kernel_size: int, c_in: int, c_out: int, use_bias: bool = True) -> int:
    """The number of parameters of a Conv2D layer with `c_out` filters of kernel_size x kernel_size x c_in.

    Returns:
        The number of weights plus biases, as a Python int.
    """
    return kernel_size * kernel_size * c_in * c_out + (c_out if use_bias else 0)


def conv2d_flops(h_in: int, w_in: int, kernel_size: int, c_in: int, c_out: int,
                 stride: int = 1, padding: str = "valid") -> int:
    """The FLOPs of a Conv2D layer for one example: 2 x multiply-accumulates (bias adds not counted).

    Args:
        h_in: the input height.
        w_in: the input width.
        kernel_size: the kernel height and width.
        c_in: the number of input channels.
        c_out: the number of filters (output channels).
        stride: the stride on both axes.
        padding: "valid" or "same".

    Returns:
        The number of floating-point operations, as a Python int.
    """
    h_out = conv2d_output_size(h_in, kernel_size, stride, padding)
    w_out = conv2d_output_size(w_in, kernel_size, stride, padding)
    return 2 * h_out * w_out * kernel_size * c_in * c_out''',
    ),
    # <= and >= without 'strictly better in one': identical models knock each other out
    dict(
        cell="pareto_optimal",
        loses=["pareto_optimal__test"],
        source='''\
def pareto_optimal(table: pd.DataFrame, cost: str = "size", quality: str = "accuracy") -> list[str]:
    """The names of the Pareto-optimal models of `table`, cheapest first.

    A row is Pareto-optimal when no other row has a cost <= its cost and a quality >= its
    quality while being strictly better in at least one of the two.

    Args:
        table: one row per model, with a "name" column and the `cost` and `quality` columns.
        cost: the column where lower is better (e.g. "size", "flops", "latency_ms").
        quality: the column where higher is better (e.g. "accuracy").

    Returns:
        A list of the names (str) of the Pareto-optimal rows, sorted by increasing cost.
    """
    costs = table[cost].to_numpy()
    qualities = table[quality].to_numpy()
    names = table["name"].to_numpy()
    front = []
    for i in range(len(table)):
        no_worse = (costs <= costs[i]) & (qualities >= qualities[i])
        strictly_better = np.arange(len(costs)) != i
        if not np.any(no_worse & strictly_better):
            front.append(i)
    front.sort(key=lambda i: costs[i])
    return [str(names[i]) for i in front]''',
    ),
    # names returned in table order, not cheapest first
    dict(
        cell="pareto_optimal",
        loses=["pareto_optimal__test"],
        source='''\
def pareto_optimal(table: pd.DataFrame, cost: str = "size", quality: str = "accuracy") -> list[str]:
    """The names of the Pareto-optimal models of `table`, cheapest first.

    A row is Pareto-optimal when no other row has a cost <= its cost and a quality >= its
    quality while being strictly better in at least one of the two.

    Args:
        table: one row per model, with a "name" column and the `cost` and `quality` columns.
        cost: the column where lower is better (e.g. "size", "flops", "latency_ms").
        quality: the column where higher is better (e.g. "accuracy").

    Returns:
        A list of the names (str) of the Pareto-optimal rows, sorted by increasing cost.
    """
    costs = table[cost].to_numpy()
    qualities = table[quality].to_numpy()
    names = table["name"].to_numpy()
    front = []
    for i in range(len(table)):
        no_worse = (costs <= costs[i]) & (qualities >= qualities[i])
        strictly_better = (costs < costs[i]) | (qualities > qualities[i])
        if not np.any(no_worse & strictly_better):
            front.append(i)
    return [str(names[i]) for i in front]''',
    ),
    # higher cost treated as better (the comparison on cost is the wrong way round)
    dict(
        cell="pareto_optimal",
        loses=["pareto_optimal__test"],
        source='''\
def pareto_optimal(table: pd.DataFrame, cost: str = "size", quality: str = "accuracy") -> list[str]:
    """The names of the Pareto-optimal models of `table`, cheapest first.

    A row is Pareto-optimal when no other row has a cost <= its cost and a quality >= its
    quality while being strictly better in at least one of the two.

    Args:
        table: one row per model, with a "name" column and the `cost` and `quality` columns.
        cost: the column where lower is better (e.g. "size", "flops", "latency_ms").
        quality: the column where higher is better (e.g. "accuracy").

    Returns:
        A list of the names (str) of the Pareto-optimal rows, sorted by increasing cost.
    """
    costs = table[cost].to_numpy()
    qualities = table[quality].to_numpy()
    names = table["name"].to_numpy()
    front = []
    for i in range(len(table)):
        no_worse = (costs >= costs[i]) & (qualities >= qualities[i])
        strictly_better = (costs > costs[i]) | (qualities > qualities[i])
        if not np.any(no_worse & strictly_better):
            front.append(i)
    front.sort(key=lambda i: costs[i])
    return [str(names[i]) for i in front]''',
    ),
    # positions used as index labels (table.loc[i]): breaks on a table whose index is not 0..n-1
    dict(
        cell="pareto_optimal",
        loses=["pareto_optimal__test"],
        source='''\
def pareto_optimal(table: pd.DataFrame, cost: str = "size", quality: str = "accuracy") -> list[str]:
    """The names of the Pareto-optimal models of `table`, cheapest first."""
    front = []
    for i in range(len(table)):
        row = table.loc[i]
        others = table.drop(index=i)
        dominated = ((others[cost] <= row[cost]) & (others[quality] >= row[quality])
                     & ((others[cost] < row[cost]) | (others[quality] > row[quality]))).any()
        if not dominated:
            front.append((row[cost], row["name"]))
    return [name for _, name in sorted(front, key=lambda pair: pair[0])]''',
    ),
]

# counts as floats: `/` where `//` was meant, or a float factor; the right numbers of the wrong type
# (NumPy integers such as np.int64 are accepted, floats are not: checked in-process, see the module docstring)
MORE_WRONG_ANSWERS.append(
    dict(
        cell="dense_layer",
        loses=["dense_layer__test"],
        source='''\
def dense_params(units_in: int, units_out: int, use_bias: bool = True) -> int:
    """The number of parameters of a Dense layer."""
    return units_in * units_out + (units_out if use_bias else 0)


def dense_flops(units_in: int, units_out: int) -> int:
    """The FLOPs of a Dense layer for one example."""
    return 2.0 * units_in * units_out''',
    )
)
