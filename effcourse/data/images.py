"""``images``: a CIFAR-10 stand-in of generated objects in colour.

Offline: ten shape classes (disc, ring, square, triangle, cross, star, crescent, bars, arrow,
ellipse) drawn with anti-aliased edges at a random position, size and rotation, in a random
shaded colour, over a random smooth or striped background, with pixel noise. The colour
says nothing about the class, so a model has to learn shapes; pose and scale vary, so
augmentation (flips, rotations, crops) has room to help. Keras' CIFAR-10 conventions:
x uint8 (N, 32, 32, 3), y uint8 (N, 1).

Real: CIFAR-10, ``cifar-10-python.tar.gz`` from the authors' site (SHA-256 as Keras checks it),
parsed from its pickled batches.
"""

from __future__ import annotations

import io
import pickle
import tarfile

import numpy as np

from effcourse.data import _cache
from effcourse.data._base import Dataset

CLASS_NAMES = ["disc", "ring", "square", "triangle", "cross", "star", "crescent", "bars", "arrow", "ellipse"]
CIFAR10_CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # as in keras.datasets.cifar10

NUM_TRAIN = 5000
NUM_TEST = 1000
SIZE = 32


def _box(u, v, half_u, half_v, cu=0.0, cv=0.0):
    """Approximate signed distance of an axis-aligned box centred at (cu, cv)."""
    return np.maximum(np.abs(u - cu) - half_u, np.abs(v - cv) - half_v)


def _shape_distance(label: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Approximate signed distance (negative inside) of class ``label`` in object units."""
    r = np.hypot(u, v)
    if label == 0:  # disc
        return r - 0.8
    if label == 1:  # ring
        return np.abs(r - 0.68) - 0.17
    if label == 2:  # square
        return _box(u, v, 0.62, 0.62)
    if label == 3:  # triangle (inradius 0.42)
        angles = np.deg2rad([90.0, 210.0, 330.0])
        return np.max([u * np.cos(a) + v * np.sin(a) for a in angles], axis=0) - 0.42
    if label == 4:  # cross
        return np.minimum(_box(u, v, 0.2, 0.8), _box(u, v, 0.8, 0.2))
    if label == 5:  # five-pointed star
        phi = np.arctan2(v, u)
        return 0.6 * (r - (0.42 + 0.4 * (0.5 + 0.5 * np.cos(5 * phi)) ** 1.5))
    if label == 6:  # crescent
        return np.maximum(r - 0.8, 0.62 - np.hypot(u - 0.38, v))
    if label == 7:  # two parallel bars
        return np.minimum(_box(u, v, 0.75, 0.16, cv=0.4), _box(u, v, 0.75, 0.16, cv=-0.4))
    if label == 8:  # arrow pointing to +u
        shaft = _box(u, v, 0.5, 0.14, cu=-0.3)
        head = np.maximum(0.12 - u, (np.abs(v) - (0.85 - u) * 0.75) / 1.25)
        return np.minimum(shaft, head)
    if label == 9:  # ellipse, 2:1
        return (np.hypot(u / 0.9, v / 0.42) - 1.0) * 0.42
    raise ValueError(label)


def _smooth_field(rng: np.random.Generator, n: int, cells: int) -> np.ndarray:
    """Smooth random fields in [0, 1], shape (n, SIZE, SIZE): a (cells+1)^2 grid, bilinear."""
    coarse = rng.uniform(0.0, 1.0, (n, cells + 1, cells + 1)).astype(np.float32)
    position = np.linspace(0.0, cells, SIZE)
    low = np.minimum(np.floor(position).astype(int), cells - 1)
    frac = position - low
    interp = np.zeros((SIZE, cells + 1), dtype=np.float32)  # linear interpolation as a matrix
    interp[np.arange(SIZE), low] = 1.0 - frac
    interp[np.arange(SIZE), low + 1] += frac
    return np.einsum("ij,njk,lk->nil", interp, coarse, interp, optimize=True)


def generate(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one image per label; returns uint8 (N, 32, 32, 3)."""
    n = len(labels)
    coords = (np.arange(SIZE) + 0.5) / (SIZE / 2) - 1.0  # pixel centres in [-1, 1]
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    pixel = 2.0 / SIZE

    f32 = np.float32
    # background: two colours mixed by a smooth field, sometimes stripes
    colour_a = rng.uniform(0.0, 1.0, (n, 1, 1, 3)).astype(f32)
    colour_b = rng.uniform(0.0, 1.0, (n, 1, 1, 3)).astype(f32)
    mix = _smooth_field(rng, n, int(rng.integers(2, 5))).astype(f32)[..., None]
    background = colour_b + (colour_a - colour_b) * mix
    striped = np.flatnonzero(rng.random(n) < 0.3)
    freq = rng.uniform(4.0, 10.0, len(striped))[:, None, None]
    direction = rng.uniform(0.0, np.pi, len(striped))[:, None, None]
    strength = rng.uniform(0.1, 0.25, (len(striped), 1, 1, 1))
    phase = (xx[None] * np.cos(direction) + yy[None] * np.sin(direction)) * freq
    stripes = ((0.5 + 0.5 * np.sin(phase))[..., None] * strength - 0.15).astype(f32)
    background[striped] = np.clip(background[striped] + stripes, 0.0, 1.0)

    # object pose
    centre = rng.uniform(-0.25, 0.25, (n, 2))
    scale = rng.uniform(0.55, 0.9, n)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    dx = (xx[None] - centre[:, 0, None, None]).astype(f32)
    dy = (yy[None] - centre[:, 1, None, None]).astype(f32)
    cos, sin = np.cos(angle).astype(f32)[:, None, None], np.sin(angle).astype(f32)[:, None, None]
    s = scale.astype(f32)[:, None, None]
    u = (cos * dx + sin * dy) / s
    v = (cos * dy - sin * dx) / s
    distance = np.empty((n, SIZE, SIZE), dtype=f32)
    for label in range(10):
        idx = np.flatnonzero(labels == label)
        if len(idx):
            distance[idx] = _shape_distance(label, u[idx], v[idx])
    alpha = np.clip(0.5 - distance * (s / pixel), 0.0, 1.0)[..., None]

    # object colour: random, shaded, kept apart from the background's mean colour
    colour = rng.uniform(0.0, 1.0, (n, 1, 1, 3)).astype(f32)
    bg_mean = background.mean(axis=(1, 2), keepdims=True)
    too_close = np.linalg.norm(colour - bg_mean, axis=-1, keepdims=True) < 0.5
    colour = np.where(too_close, 1.0 - colour, colour)
    light = rng.uniform(-0.25, 0.25, (n, 2)).astype(f32)
    shade = 1.0 + light[:, 0, None, None] * u + light[:, 1, None, None] * v
    foreground = np.clip(colour * shade[..., None], 0.0, 1.0)

    image = background
    image += alpha * (foreground - background)
    noise = rng.standard_normal(image.shape, dtype=f32)
    noise *= rng.uniform(0.0, 0.06 * 255.0, (n, 1, 1, 1)).astype(f32)
    image *= 255.0
    image += noise
    np.clip(image, 0.0, 255.0, out=image)
    return np.rint(image, out=image).astype(np.uint8)


def _balanced_labels(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % 10).astype(np.uint8)


def offline(*, seed: int = 0) -> Dataset:
    """5000 train / 1000 test generated images, balanced over the ten classes."""
    rng = np.random.default_rng([seed, 2])
    y_train = _balanced_labels(NUM_TRAIN, rng)
    y_test = _balanced_labels(NUM_TEST, rng)
    x_train = generate(y_train, rng)
    x_test = generate(y_test, rng)
    return Dataset(
        (x_train, y_train[:, None]),
        (x_test, y_test[:, None]),
        name="images",
        source="offline",
        class_names=CLASS_NAMES,
        info={"origin": "generated shapes (effcourse.data.images)"},
    )


_BATCHES = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)] + ["cifar-10-batches-py/test_batch"]


def _read_batch(archive: tarfile.TarFile, member: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickled CIFAR batch -> (uint8 (n, 32, 32, 3), uint8 (n,)), as keras' ``load_batch``."""
    f = archive.extractfile(member)
    if f is None:
        raise ValueError(f"{member} is not a file in the CIFAR-10 archive")
    batch = pickle.load(io.BytesIO(f.read()), encoding="bytes")  # the format's pickled dict of arrays
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.asarray(batch[b"labels"], dtype=np.uint8)
    if len(data) != len(labels):
        raise ValueError(f"{member}: {len(data)} images but {len(labels)} labels")
    return data, labels


def _verify_archive(path) -> None:
    with tarfile.open(path, "r:gz") as archive:
        present = set(archive.getnames())
        missing = [m for m in _BATCHES if m not in present]
        if missing:
            raise ValueError(f"missing {missing[0]}")


def real(*, seed: int = 0, cache_dir=None) -> Dataset:
    """CIFAR-10 (50000 train / 10000 test); ``seed`` is unused."""
    path = _cache.fetch(
        "cifar-10-python.tar.gz", CIFAR10_URL, sha256=CIFAR10_SHA256, verify=_verify_archive, cache_dir=cache_dir
    )
    with tarfile.open(path, "r:gz") as archive:
        parts = [_read_batch(archive, m) for m in _BATCHES]
    x_train = np.concatenate([p[0] for p in parts[:-1]])
    y_train = np.concatenate([p[1] for p in parts[:-1]])
    x_test, y_test = parts[-1]
    return Dataset(
        (x_train, y_train[:, None]),
        (x_test, y_test[:, None]),
        name="images",
        source="real",
        class_names=CIFAR10_CLASS_NAMES,
        info={"origin": CIFAR10_URL},
    )
