"""Finding a dataset file: the cache, then known local copies, then the web."""

import os

from numpyflow.keras.utils.file_utils import cache_root
from numpyflow.keras.utils.file_utils import get_file
from numpyflow.keras.utils.file_utils import validate_file


def _usable(path, file_hash):
    return os.path.isfile(path) and (
        file_hash is None or validate_file(path, file_hash)
    )


def locate(
    fname,
    origin,
    *,
    dataset,
    cache_subdir,
    local_dirs=(),
    file_hash=None,
    cache_dir=None,
    source_name=None,
    all_files=None,
    install_hint=None,
):
    """Returns a local path for a dataset file, downloading it as a last resort.

    Lookup order: `<cache>/<cache_subdir>/<fname>` (hash-checked when
    `file_hash` is given), then `<dir>/<source_name>` for each of `local_dirs`
    (used in place, not copied), then `get_file` downloads `origin` into the
    cache.

    Args:
        fname: File name in the cache (an absolute path is used as is).
        origin: URL to download from.
        dataset: Human-readable dataset name, for error messages.
        cache_subdir: Subdirectory of the cache dir.
        local_dirs: Directories that may already hold the file.
        file_hash: Expected sha256/md5 hash, or None.
        cache_dir: Base cache directory; None means `$KERAS_HOME`/`~/.keras`.
        source_name: Name to look for in `local_dirs`; defaults to `fname`.
        all_files: `(name, url)` pairs the dataset needs, listed in the error
            so the user can fetch them all at once; defaults to this file.
        install_hint: Extra sentence for the error (e.g. an apt command).

    Returns:
        The path of a usable local copy, a string.

    Raises:
        FileNotFoundError: No copy was found and the download failed; the
            message says what to download, from where, and where to put it.

    Example:
        >>> locate("mnist.npz", "https://example.com/mnist.npz",
        ...        dataset="MNIST", cache_subdir="datasets")  # doctest: +SKIP
        '/home/me/.keras/datasets/mnist.npz'
    """
    cache_dir = os.path.expanduser(cache_dir) if cache_dir else None
    target_dir = os.path.join(cache_root(cache_dir), cache_subdir)
    cached = os.path.join(target_dir, fname)
    if _usable(cached, file_hash):
        return cached

    candidates = [os.path.join(d, source_name or fname) for d in local_dirs]
    for candidate in candidates:
        if _usable(candidate, file_hash):
            return candidate

    try:
        return get_file(
            fname,
            origin=origin,
            file_hash=file_hash,
            cache_subdir=cache_subdir,
            cache_dir=cache_dir,
        )
    except OSError as e:
        searched = "\n".join(f"  - {p}" for p in [cached] + candidates)
        wanted = "\n".join(
            f"  - {url}" for _, url in (all_files or [(fname, origin)])
        )
        hint = f"\nOr: {install_hint}" if install_hint else ""
        raise FileNotFoundError(
            f"Could not load the {dataset} dataset: {fname!r} is not in the "
            f"cache or any known local source, and downloading it failed "
            f"({e}).\nSearched:\n{searched}\n"
            f"To fix it, download\n{wanted}\nand put the file(s) in "
            f"{os.path.dirname(cached)}/ (set KERAS_HOME to move the cache)."
            f"{hint}"
        ) from e
