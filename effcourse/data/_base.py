"""Shared pieces of ``effcourse.data``: the :class:`Dataset` container and image resizing."""

from __future__ import annotations

from typing import Any

import numpy as np


class Dataset(tuple):
    """``((x_train, y_train), (x_test, y_test))`` with a name, a source and metadata.

    A plain tuple, so ``(x_train, y_train), (x_test, y_test) = load("digits")`` works as with
    ``keras.datasets``; the extra attributes carry what a set needs besides arrays.

    Example:
        >>> from effcourse import data
        >>> ds = data.load("news")
        >>> (x_train, y_train), (x_test, y_test) = ds
        >>> ds.name, ds.source, ds.class_names[1], ds.info["vocabulary"][0]
        ('news', 'offline', 'Sports', 'the')

    Attributes:
        name: the dataset name given to :func:`effcourse.data.load`.
        source: ``"offline"`` (generated or bundled stand-in) or ``"real"`` (downloaded set).
        class_names: a readable name for each label value.
        info: anything else (``sample_rate``, ``vocabulary``, per-split species, ...).

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """

    name: str
    source: str
    class_names: list[str]
    info: dict[str, Any]

    def __new__(
        cls,
        train: tuple[np.ndarray, np.ndarray],
        test: tuple[np.ndarray, np.ndarray],
        *,
        name: str,
        source: str,
        class_names: list[str],
        info: dict[str, Any] | None = None,
    ) -> Dataset:
        self = super().__new__(cls, (tuple(train), tuple(test)))
        self.name = name
        self.source = source
        self.class_names = list(class_names)
        self.info = dict(info or {})
        return self

    def __getnewargs_ex__(self):  # so that copy/pickle rebuild the attributes too
        return (self[0], self[1]), dict(
            name=self.name, source=self.source, class_names=self.class_names, info=self.info
        )

    def __repr__(self) -> str:
        (x_train, y_train), (x_test, y_test) = self
        return (
            f"Dataset({self.name!r}, source={self.source!r}, "
            f"x_train={_describe(x_train)}, y_train={_describe(y_train)}, "
            f"x_test={_describe(x_test)}, y_test={_describe(y_test)}, "
            f"classes={len(self.class_names)})"
        )

    def copy(self) -> Dataset:
        """A deep copy: new arrays, new metadata containers."""
        (x_train, y_train), (x_test, y_test) = self
        return Dataset(
            (x_train.copy(), y_train.copy()),
            (x_test.copy(), y_test.copy()),
            name=self.name,
            source=self.source,
            class_names=list(self.class_names),
            info=_deep_copy_info(self.info),
        )


def _describe(a: np.ndarray) -> str:
    return f"{a.dtype}{tuple(a.shape)}"


def _deep_copy_info(info: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in info.items():
        if isinstance(value, np.ndarray):
            out[key] = value.copy()
        elif isinstance(value, (list, dict, set)):
            out[key] = type(value)(value)
        else:
            out[key] = value
    return out


def check_image_size(image_size: Any, *, name: str = "image_size", minimum: int = 8) -> int:
    """Validate an ``image_size`` option (a positive int) and return it."""
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < minimum:
        raise ValueError(f"{name} must be an int >= {minimum} (the side of the square images), got {image_size!r}")
    return int(image_size)


def resize_images(images: np.ndarray, size: int, *, nearest: bool = False) -> np.ndarray:
    """Resize a batch of uint8 images (N,H,W) or (N,H,W,C) to (N,size,size[,C]) with Pillow.

    Bilinear (area-like when shrinking, via Pillow's reducing resampler) for images; nearest
    neighbour for label masks so that no new label values appear.
    """
    from PIL import Image

    images = np.asarray(images)
    if images.shape[1] == size and images.shape[2] == size:
        return images.copy()
    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    squeeze = images.ndim == 4 and images.shape[-1] == 1
    out_shape = (len(images), size, size) + images.shape[3:]
    out = np.empty(out_shape, dtype=np.uint8)
    for i, img in enumerate(images):
        img2 = img[..., 0] if squeeze else img
        resized = np.asarray(Image.fromarray(img2).resize((size, size), resample=resample, reducing_gap=None))
        out[i] = resized[..., None] if squeeze else resized
    return out
