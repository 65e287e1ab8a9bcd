"""``digits``: an MNIST stand-in made from scikit-learn's bundled handwritten digits.

Offline: the 1797 8x8 digits of ``sklearn.datasets.load_digits`` (real handwriting from 43
writers, no download), split train/test by original image, then each original is drawn a few
times at ``image_size`` (default 16) with a small random rotation, scale, shift, contrast and
noise. MNIST's conventions: x uint8 (N, H, W) in 0..255 (white digit on black), y uint8 (N,).

Real: MNIST from the Keras dataset mirror (``mnist.npz``, SHA-256 checked), 28x28 unless
``image_size`` is given.
"""

from __future__ import annotations

import numpy as np

from effcourse.data import _cache
from effcourse.data._base import Dataset, check_image_size, resize_images

CLASS_NAMES = [str(d) for d in range(10)]
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # as in keras.datasets.mnist

TEST_FRACTION = 0.2
TRAIN_COPIES = 3
TEST_COPIES = 3


def _split_originals(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of original image indices: TEST_FRACTION of each class to test."""
    train, test = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(len(idx) * TEST_FRACTION))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _render(images8: np.ndarray, copies: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw each 8x8 image ``copies`` times at size x size with random pose and noise."""
    from scipy.ndimage import affine_transform

    n = len(images8)
    total = n * copies
    angle = np.deg2rad(rng.uniform(-12, 12, total))
    scale = rng.uniform(0.85, 1.1, total)  # >1 draws the digit larger
    shift = rng.uniform(-0.75, 0.75, (total, 2))  # in 8x8 input pixels
    contrast = rng.uniform(0.6, 1.0, total)
    noise = rng.uniform(0.0, 16.0, total)
    padded = np.pad(images8.astype(np.float64) / 16.0, ((0, 0), (4, 4), (4, 4)))
    centre_in = np.array([7.5, 7.5])  # centre of the padded 16x16 input
    centre_out = np.array([(size - 1) / 2.0] * 2)
    out = np.empty((total, size, size), dtype=np.float64)
    for k in range(total):
        c, s = np.cos(angle[k]), np.sin(angle[k])
        # output pixel -> input pixel: input = M @ (out - centre_out) + centre_in + shift
        m = np.array([[c, -s], [s, c]]) * (8.0 / size) / scale[k]
        offset = centre_in + shift[k] - m @ centre_out
        out[k] = affine_transform(padded[k % n], m, offset=offset, output_shape=(size, size), order=1, mode="constant")
    out *= 255.0 * contrast[:, None, None]
    out += rng.normal(0.0, 1.0, out.shape) * noise[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def offline(*, seed: int = 0, image_size: int | None = None) -> Dataset:
    """The scikit-learn digits, split by original image and redrawn with variation."""
    size = 16 if image_size is None else check_image_size(image_size)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images8, labels = bunch.images, bunch.target.astype(np.uint8)
    rng = np.random.default_rng([seed, 1])
    train_idx, test_idx = _split_originals(labels, rng)
    x_train = _render(images8[train_idx], TRAIN_COPIES, size, rng)
    y_train = np.tile(labels[train_idx], TRAIN_COPIES)
    x_test = _render(images8[test_idx], TEST_COPIES, size, rng)
    y_test = np.tile(labels[test_idx], TEST_COPIES)
    # shuffle so that consecutive examples are not copies of one original
    p_train, p_test = rng.permutation(len(x_train)), rng.permutation(len(x_test))
    source_train = np.tile(train_idx, TRAIN_COPIES)[p_train]
    source_test = np.tile(test_idx, TEST_COPIES)[p_test]
    return Dataset(
        (x_train[p_train], y_train[p_train]),
        (x_test[p_test], y_test[p_test]),
        name="digits",
        source="offline",
        class_names=CLASS_NAMES,
        info={
            "image_size": size,
            "origin": "sklearn.datasets.load_digits, redrawn",
            # index of the original sklearn digit each example was drawn from
            "source_index_train": source_train,
            "source_index_test": source_test,
        },
    )


def _verify_npz(path) -> None:
    with np.load(path, allow_pickle=False) as f:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            if key not in f.files:
                raise ValueError(f"{key} missing from {path}")


def real(*, seed: int = 0, cache_dir=None, image_size: int | None = None) -> Dataset:
    """MNIST (``mnist.npz`` as in ``keras.datasets.mnist.load_data``); ``seed`` is unused."""
    size = None if image_size is None else check_image_size(image_size)
    path = _cache.fetch("mnist.npz", MNIST_URL, sha256=MNIST_SHA256, verify=_verify_npz, cache_dir=cache_dir)
    with np.load(path, allow_pickle=False) as f:
        x_train, y_train = f["x_train"].astype(np.uint8), f["y_train"].astype(np.uint8)
        x_test, y_test = f["x_test"].astype(np.uint8), f["y_test"].astype(np.uint8)
    if size is not None:
        x_train, x_test = resize_images(x_train, size), resize_images(x_test, size)
    return Dataset(
        (x_train, y_train),
        (x_test, y_test),
        name="digits",
        source="real",
        class_names=CLASS_NAMES,
        info={"image_size": x_train.shape[1], "origin": MNIST_URL},
    )
