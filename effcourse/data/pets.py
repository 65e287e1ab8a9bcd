"""``pets``: an Oxford-IIIT Pet stand-in of generated animals with trimap masks.

Offline: cat- and dog-like animals (a body, a head with pointed ears for cats or hanging
ears for dogs, legs and a tail), in fur colours with stripes or spots, at a random position,
size and facing, over varied backgrounds (two-colour smooth fields, sometimes a floor line),
with pixel noise. Fur and background colours sometimes come close, so colour alone cannot
segment every pixel. Masks follow the real trimap convention: 1 = pet, 2 = background,
3 = border (a band about 0.75 pixel either side of the outline). x uint8 (N, S, S, 3),
y uint8 masks (N, S, S, 1), S = ``image_size`` (default 64); ``info["species_train"]`` and
``info["species_test"]``: 0 cat, 1 dog.

Real: Oxford-IIIT Pet (``images.tar.gz`` and ``annotations.tar.gz`` from the VGG site),
images and trimaps resized to ``image_size`` (bilinear / nearest), split by the archive's
``trainval.txt`` / ``test.txt``.
"""

from __future__ import annotations

import io
import tarfile

import numpy as np

from effcourse.data import _cache
from effcourse.data._base import Dataset, check_image_size

CLASS_NAMES = ["pet", "background", "border"]  # mask value v <-> CLASS_NAMES[v - 1]
SPECIES = ["cat", "dog"]
NUM_TRAIN = 1000
NUM_TEST = 200
PETS_BASE = "https://www.robots.ox.ac.uk/~vgg/data/pets/data/"

_FUR = np.array(
    [
        [0.55, 0.35, 0.2],
        [0.85, 0.55, 0.25],
        [0.2, 0.18, 0.16],
        [0.9, 0.88, 0.82],
        [0.5, 0.5, 0.5],
        [0.7, 0.6, 0.45],
        [0.35, 0.25, 0.15],
    ],
    dtype=np.float32,
)


def _ellipse(u, v, cu, cv, a, b):
    """Approximate signed distance of an axis-aligned ellipse (per-image parameters broadcast)."""
    return (np.hypot((u - cu) / a, (v - cv) / b) - 1.0) * np.minimum(a, b)


def _triangle_up(u, v, cu, cv, half_width, height):
    """Approximate signed distance of an upward triangle with its base centred at (cu, cv)."""
    slope = half_width / height
    side = (np.abs(u - cu) - slope * (cv - v)) / np.sqrt(1.0 + slope * slope)  # v grows downwards
    return np.maximum(np.maximum(side, v - cv), (cv - height) - v)


def _smooth(rng, n, size, cells=3):
    coarse = rng.uniform(0.0, 1.0, (n, cells + 1, cells + 1)).astype(np.float32)
    pos = np.linspace(0.0, cells, size)
    low = np.minimum(np.floor(pos).astype(int), cells - 1)
    frac = pos - low
    m = np.zeros((size, cells + 1), dtype=np.float32)
    m[np.arange(size), low] = 1.0 - frac
    m[np.arange(size), low + 1] += frac
    return np.einsum("ij,njk,lk->nil", m, coarse, m, optimize=True)


def generate(species: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N,size,size,3) and trimaps uint8 (N,size,size,1) for cats (0) / dogs (1)."""
    chunk = 64  # small batches keep the temporaries in the CPU cache
    parts = [_generate(species[i : i + chunk], size, rng) for i in range(0, len(species), chunk)]
    return np.concatenate([a for a, _ in parts]), np.concatenate([m for _, m in parts])


def _generate(species: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = len(species)
    f32 = np.float32
    coords = ((np.arange(size) + 0.5) / (size / 2) - 1.0).astype(f32)
    v, u = np.meshgrid(coords, coords, indexing="ij")  # u to the right, v downwards
    u, v = u[None], v[None]

    def p(low, high):
        return rng.uniform(low, high, (n, 1, 1)).astype(f32)

    scale = p(1.0, 1.4)
    facing = np.where(rng.random((n, 1, 1)) < 0.5, -1.0, 1.0).astype(f32)
    cx, cy = p(-0.15, 0.15), p(0.0, 0.15)
    lu = (u - cx) * facing / scale  # local coordinates: the head is towards +lu
    lv = (v - cy) / scale
    dog = (species == 1)[:, None, None]
    body = _ellipse(lu, lv, 0.0, 0.0, p(0.42, 0.55), p(0.2, 0.28))
    head_r = p(0.17, 0.23)
    hu, hv = p(0.42, 0.52), p(-0.3, -0.18)
    head = _ellipse(lu, lv, hu, hv, head_r * np.where(dog, f32(1.15), f32(1.0)), head_r)
    cat_ears = np.minimum(
        _triangle_up(lu, lv, hu - 0.6 * head_r, hv - 0.5 * head_r, 0.07, 0.2),
        _triangle_up(lu, lv, hu + 0.6 * head_r, hv - 0.5 * head_r, 0.07, 0.2),
    )
    dog_ears = np.minimum(
        _ellipse(lu, lv, hu - 0.95 * head_r, hv + 0.15, 0.06, 0.14),
        _ellipse(lu, lv, hu + 0.95 * head_r, hv + 0.15, 0.06, 0.14),
    )
    ears = np.where(dog, dog_ears, cat_ears)
    leg_len = p(0.18, 0.3)
    legs = np.minimum(
        np.maximum(np.abs(lu - 0.25) - 0.05, np.abs(lv - 0.2 - leg_len / 2) - leg_len / 2),
        np.maximum(np.abs(lu + 0.28) - 0.05, np.abs(lv - 0.2 - leg_len / 2) - leg_len / 2),
    )
    tail_up = np.where(dog, p(0.0, 0.25), p(-0.4, -0.15))  # cats carry the tail higher
    tail = _ellipse(lu, lv, -0.5, tail_up, 0.16, np.where(dog, f32(0.06), f32(0.045)))
    distance = np.minimum(np.minimum(np.minimum(body, head), np.minimum(ears, legs)), tail) * scale
    distance_px = distance / (2.0 / size)

    # fur: a base colour with stripes (cats) or spots (dogs) of varying strength
    fur = _FUR[rng.integers(len(_FUR), size=n)][:, None, None, :] * p(0.8, 1.15)[..., None]
    stripe = 0.5 + 0.5 * np.sin(lu * p(14.0, 24.0) + p(0, 6.3))
    spots = (_smooth(rng, n, size, cells=6) > 0.65).astype(f32)
    pattern = np.where(dog, spots, stripe) * p(0.0, 0.5)
    fur = fur * (1.0 - pattern[..., None] * 0.6)
    # background: two colours blended by a smooth field; sometimes a floor below a line
    col_a, col_b = rng.uniform(0, 1, (n, 1, 1, 3)).astype(f32), rng.uniform(0, 1, (n, 1, 1, 3)).astype(f32)
    mix = _smooth(rng, n, size)[..., None]
    background = col_b + (col_a - col_b) * mix
    floor = (rng.random((n, 1, 1)) < 0.5) & (v > p(0.2, 0.6))
    background = np.where(
        floor[..., None], background * 0.6 + rng.uniform(0, 1, (n, 1, 1, 3)).astype(f32) * 0.4, background
    )
    alpha = np.clip(0.5 - distance_px, 0.0, 1.0)[..., None]
    image = background + alpha * (np.clip(fur, 0.0, 1.0) - background)
    image += rng.standard_normal(image.shape, dtype=f32) * p(0.01, 0.06)[..., None]
    image = np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)

    mask = np.full((n, size, size), 2, dtype=np.uint8)
    mask[distance_px < 0] = 1
    mask[np.abs(distance_px) < 0.75] = 3
    return image, mask[..., None]


def offline(*, seed: int = 0, image_size: int = 64) -> Dataset:
    """1000 train / 200 test generated pets, half cats and half dogs, with trimaps."""
    size = check_image_size(image_size, minimum=16)
    rng = np.random.default_rng([seed, 5])
    species_train = rng.permutation(np.arange(NUM_TRAIN) % 2).astype(np.int64)
    species_test = rng.permutation(np.arange(NUM_TEST) % 2).astype(np.int64)
    train = generate(species_train, size, rng)
    test = generate(species_test, size, rng)
    return Dataset(
        train,
        test,
        name="pets",
        source="offline",
        class_names=list(CLASS_NAMES),
        info={
            "species_train": species_train,
            "species_test": species_test,
            "species_names": list(SPECIES),
            "image_size": size,
            "origin": "generated animals (effcourse.data.pets)",
        },
    )


def _key(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def _verify_images(path) -> None:
    with tarfile.open(path, "r:gz") as archive:
        if not any(_key(n).startswith("images/") and n.endswith(".jpg") for n in archive.getnames()):
            raise ValueError("no images/*.jpg: not the Oxford-IIIT Pet images archive")


def _verify_annotations(path) -> None:
    with tarfile.open(path, "r:gz") as archive:
        names = {_key(n) for n in archive.getnames()}
    for required in ("annotations/trainval.txt", "annotations/test.txt"):
        if required not in names:
            raise ValueError(f"{required} missing: not the Oxford-IIIT Pet annotations archive")


def _split_list(text: str) -> list[tuple[str, int]]:
    """Lines 'Image_name class_id species breed_id' -> [(name, species 0 cat / 1 dog)]."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if not parts or line.startswith("#"):
            continue
        if len(parts) < 3 or parts[2] not in ("1", "2"):
            raise ValueError(f"unexpected split list line {line!r}")
        out.append((parts[0], int(parts[2]) - 1))
    return out


def _decode_archives(images_path, annotations_path, size: int) -> dict:
    """Images and trimaps resized to size x size, split by trainval.txt / test.txt."""
    from PIL import Image

    trimaps: dict[str, np.ndarray] = {}
    with tarfile.open(annotations_path, "r:gz") as archive:
        lists = {}
        for member in archive:
            key = _key(member.name)
            if key in ("annotations/trainval.txt", "annotations/test.txt"):
                lists[key] = _split_list(archive.extractfile(member).read().decode("utf-8"))
            elif (
                key.startswith("annotations/trimaps/")
                and key.endswith(".png")
                and not key.split("/")[-1].startswith("._")
            ):
                with Image.open(io.BytesIO(archive.extractfile(member).read())) as im:
                    small = im.convert("L").resize((size, size), Image.Resampling.NEAREST)
                trimaps[key.split("/")[-1][:-4]] = np.asarray(small, dtype=np.uint8)
    pictures: dict[str, np.ndarray] = {}
    with tarfile.open(images_path, "r:gz") as archive:
        for member in archive:
            key = _key(member.name)
            if key.startswith("images/") and key.endswith(".jpg"):
                with Image.open(io.BytesIO(archive.extractfile(member).read())) as im:
                    small = im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
                pictures[key.split("/")[-1][:-4]] = np.asarray(small, dtype=np.uint8)
    arrays = {}
    for split, list_name in (("train", "annotations/trainval.txt"), ("test", "annotations/test.txt")):
        entries = [(name, s) for name, s in lists.get(list_name, []) if name in pictures and name in trimaps]
        x = np.stack([pictures[name] for name, _ in entries]) if entries else np.zeros((0, size, size, 3), np.uint8)
        y = (
            np.stack([trimaps[name] for name, _ in entries])[..., None]
            if entries
            else np.zeros((0, size, size, 1), np.uint8)
        )
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
        arrays[f"species_{split}"] = np.array([s for _, s in entries], dtype=np.int64)
    return arrays


def real(*, seed: int = 0, cache_dir=None, image_size: int = 64) -> Dataset:
    """Oxford-IIIT Pet (3680 trainval / 3669 test), resized; ``seed`` is unused."""
    size = check_image_size(image_size, minimum=16)
    # No published SHA-256 is known to us: the archives are checked by opening them.
    images_path = _cache.fetch(
        "images.tar.gz",
        PETS_BASE + "images.tar.gz",
        verify=_verify_images,
        cache_dir=cache_dir,
        subdir="oxford_iiit_pet",
    )
    annotations_path = _cache.fetch(
        "annotations.tar.gz",
        PETS_BASE + "annotations.tar.gz",
        verify=_verify_annotations,
        cache_dir=cache_dir,
        subdir="oxford_iiit_pet",
    )
    arrays = _cache.derived_arrays(
        f"pets_{size}.npz",
        lambda: _decode_archives(images_path, annotations_path, size),
        sources=[images_path, annotations_path],
        cache_dir=cache_dir,
        subdir="oxford_iiit_pet",
    )
    splits = [(arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])]
    species = [arrays["species_train"], arrays["species_test"]]
    return Dataset(
        splits[0],
        splits[1],
        name="pets",
        source="real",
        class_names=list(CLASS_NAMES),
        info={
            "species_train": species[0],
            "species_test": species[1],
            "species_names": list(SPECIES),
            "image_size": size,
            "origin": PETS_BASE,
        },
    )
