"""The download cache of the real datasets.

Files land in one folder: the ``cache_dir`` argument, else ``$EFFCOURSE_CACHE``, else
``~/.cache/effcourse``. A file is fetched once, written under a temporary name and moved into
place only after it passed its check (a known SHA-256, or, where no published hash is known,
opening and parsing the archive). A cached file that fails its check is ours and corrupt: it is
deleted and fetched again, or, when the network is unavailable, reported with an error that
says what to do. It is never used silently. A copy that passed its check is remembered by
size and modification time (a ``.<name>.verified`` file), so a multi-gigabyte archive is not
re-read on every load; any change to the file makes it checked again. Arrays decoded from
the archives (resized images, resampled clips) are kept as ``.npz`` files next to them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

USER_AGENT = "effcourse (https://github.com/; course dataset cache)"


class DownloadError(OSError):
    """A real dataset could not be downloaded or verified."""


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``cache_dir``, else ``$EFFCOURSE_CACHE``, else ``~/.cache/effcourse``."""
    if cache_dir is not None:
        root = Path(cache_dir)
    elif os.environ.get("EFFCOURSE_CACHE"):
        root = Path(os.environ["EFFCOURSE_CACHE"])
    else:
        root = Path.home() / ".cache" / "effcourse"
    return root.expanduser()


def sha256_of(path: str | os.PathLike) -> str:
    """The hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, destination: Path, *, timeout: float = 60.0) -> None:
    """Download ``url`` to ``destination`` (a temporary file that :func:`fetch` owns).

    Kept as a module-level function so that tests can replace it (no test touches the network).
    """
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(destination, "wb") as out:
        shutil.copyfileobj(response, out, length=1 << 20)


def _problem(path: Path, sha256: str | None, verify: Callable[[Path], None] | None) -> str | None:
    """None when the file passes its check, else a short description of what is wrong."""
    try:
        if path.stat().st_size == 0:
            return "it is empty"
        if sha256 is not None:
            actual = sha256_of(path)
            if actual != sha256:
                return f"its SHA-256 is {actual[:12]}..., expected {sha256[:12]}..."
        if verify is not None:
            verify(path)
    except Exception as error:  # any failure to open/parse the file means it is unusable
        return f"it cannot be read ({type(error).__name__}: {error})"
    return None


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size} {st.st_mtime_ns}"


def _read_marker(marker: Path) -> str | None:
    try:
        return marker.read_text()
    except OSError:
        return None


def fetch(
    filename: str,
    url: str,
    *,
    sha256: str | None = None,
    verify: Callable[[Path], None] | None = None,
    cache_dir: str | os.PathLike | None = None,
    subdir: str = "",
) -> Path:
    """Return the path of a verified cached copy of ``url``, downloading it on first use.

    Args:
        filename: the file's name in the cache.
        url: where to download it from.
        sha256: the expected hex digest, when known.
        verify: a function that raises when the file is not a valid archive of the expected
            format (used where no published hash is known, and in addition to the hash).
        cache_dir: the cache folder (see :func:`cache_root`).
        subdir: a subfolder of the cache for this dataset.

    Returns:
        The path of the verified file inside the cache.

    Raises:
        DownloadError: the file is not cached and cannot be downloaded, the download does not
            pass its check, or the cached copy is corrupt and the network is unavailable.
    """
    if sha256 is None and verify is None:
        raise ValueError(f"fetch({filename!r}) needs a sha256 or a verify function: a file is never used unchecked")
    folder = cache_root(cache_dir) / subdir if subdir else cache_root(cache_dir)
    path = folder / filename
    marker = folder / f".{filename}.verified"  # size and mtime of the copy that passed its check
    corrupt_reason = None
    if path.exists():
        if _stamp(path) == _read_marker(marker):
            return path  # unchanged since it was verified: skip re-reading a multi-GB archive
        corrupt_reason = _problem(path, sha256, verify)
        if corrupt_reason is None:
            marker.write_text(_stamp(path))
            return path
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            download(url, tmp)
        except (OSError, urllib.error.URLError, ValueError) as error:
            if corrupt_reason is not None:
                raise DownloadError(
                    f"the cached file {path} is corrupt ({corrupt_reason}) and the network is unavailable "
                    f"({type(error).__name__}: {error}): delete it or set EFFCOURSE_DATA=offline "
                    f"(or pass source='offline') to use the offline stand-in"
                ) from error
            raise DownloadError(
                f"could not download {url} into {folder} ({type(error).__name__}: {error}). "
                f"Connect to the internet, or set EFFCOURSE_DATA=offline (or pass source='offline') "
                f"to use the offline stand-in"
            ) from error
        new_problem = _problem(tmp, sha256, verify)
        if new_problem is not None:
            if corrupt_reason is not None:
                path.unlink()  # our corrupt copy; never leave it to be used later
            raise DownloadError(
                f"the file downloaded from {url} is not valid ({new_problem}); it was discarded. "
                f"Try again later, or set EFFCOURSE_DATA=offline to use the offline stand-in"
            )
        os.replace(tmp, path)  # replaces a corrupt cached copy only with a verified one
        marker.write_text(_stamp(path))
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def derived_arrays(
    filename: str,
    build: Callable[[], dict],
    *,
    sources: list[Path],
    cache_dir: str | os.PathLike | None = None,
    subdir: str = "",
) -> dict:
    """Arrays computed from downloaded archives, kept as an ``.npz`` next to them.

    Decoding thousands of JPEGs or WAV files takes minutes; the result is saved once and reused
    while it is newer than every source archive. A derived file that cannot be read is rebuilt
    (it is ours, computed from verified sources). Arrays are stored without pickle.
    """
    import zipfile

    import numpy as np

    folder = cache_root(cache_dir) / subdir if subdir else cache_root(cache_dir)
    path = folder / filename
    newest_source = max(p.stat().st_mtime_ns for p in sources)
    if path.exists() and path.stat().st_mtime_ns >= newest_source:
        try:
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            pass  # unreadable derived file: rebuild it below
    arrays = build()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".npz", dir=folder)
    os.close(fd)
    try:
        np.savez(tmp_name, **arrays)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return arrays
