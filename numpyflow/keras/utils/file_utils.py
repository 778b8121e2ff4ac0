"""Downloading and caching files, like `tf.keras.utils.get_file`.

Files are cached under `~/.keras` (or `$KERAS_HOME` when set), in a
subdirectory (`datasets` by default). A download is written to a temporary
file next to its final name and only renamed into place once it is complete
and its hash (if given) matches, so an interrupted or corrupt download never
leaves a file that looks finished.
"""

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request

# Seconds to wait on a stalled connection before giving up (Keras waits
# forever; a hung download is worse than a clear error).
DOWNLOAD_TIMEOUT = 60

_CHUNK_SIZE = 1 << 16
_HASH_LENGTHS = {"sha256": 64, "md5": 32}


def keras_home():
    """Returns the configured Keras home directory (not necessarily existing).

    That is `$KERAS_HOME` when the environment variable is set, else
    `~/.keras`, as in Keras.

    Example:
        >>> keras_home()  # with KERAS_HOME unset  # doctest: +SKIP
        '/home/me/.keras'
    """
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return os.path.expanduser(home)


def cache_root(cache_dir=None):
    """Returns the writable base directory that cached files go under.

    Args:
        cache_dir: Preferred base directory; `None` means `keras_home()`.

    Returns:
        `cache_dir` (created if needed) when it is writable, else
        `/tmp/.keras`, which is Keras' fallback for read-only homes.

    Example:
        >>> cache_root()  # doctest: +SKIP
        '/home/me/.keras'
    """
    base = os.path.expanduser(cache_dir) if cache_dir else keras_home()
    # Keras only checks os.access, which also sends a not-yet-created ~/.keras
    # to /tmp; creating it first keeps the cache where users expect it.
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK):
        return base
    return os.path.join(tempfile.gettempdir(), ".keras")


def _resolve_algorithm(file_hash, hash_algorithm):
    """Returns 'sha256' or 'md5' for `file_hash`, validating both arguments."""
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(
            "hash_algorithm must be 'auto', 'sha256' or 'md5'; "
            f"received hash_algorithm={hash_algorithm!r}."
        )
    if hash_algorithm == "auto":
        for name, length in _HASH_LENGTHS.items():
            if len(file_hash) == length:
                return name
        raise ValueError(
            "With hash_algorithm='auto', file_hash must be a sha256 (64 hex "
            "digits) or md5 (32 hex digits) hash; received "
            f"file_hash={file_hash!r} ({len(file_hash)} characters)."
        )
    return hash_algorithm


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK_SIZE):
    """Computes the hex digest of a file.

    Args:
        fpath: Path of the file to hash.
        algorithm: `"sha256"` or `"md5"`.
        chunk_size: Bytes read at a time, so large files use little memory.

    Returns:
        The lowercase hex digest, a string.

    Example:
        >>> hash_file("/dev/null")[:8]
        'e3b0c442'
    """
    hasher = hashlib.new(algorithm)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_CHUNK_SIZE):
    """Checks a file against a sha256 or md5 hash.

    Args:
        fpath: Path of the file to check.
        file_hash: Expected hex digest (case-insensitive).
        algorithm: `"auto"`, `"sha256"` or `"md5"`; `"auto"` picks by the
            hash's length.
        chunk_size: Bytes read at a time.

    Returns:
        True when the file's hash equals `file_hash`.

    Example:
        >>> validate_file("/dev/null", "d41d8cd98f00b204e9800998ecf8427e")
        True
    """
    algorithm = _resolve_algorithm(str(file_hash), algorithm)
    actual = hash_file(fpath, algorithm, chunk_size)
    return actual == str(file_hash).lower()


def _fetch_error(origin, reason):
    return OSError(f"URL fetch failure on {origin}: {reason}")


def _download(origin, target, file_hash, algorithm):
    """Downloads `origin` to `target` atomically, verifying `file_hash`."""
    directory = os.path.dirname(os.path.abspath(target))
    fd, part = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".part", dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_url(origin, out)
        if file_hash is not None:
            actual = hash_file(part, algorithm)
            if actual != file_hash.lower():
                raise ValueError(
                    f"Incomplete or corrupted file detected for {target!r} "
                    f"(downloaded from {origin}): expected {algorithm} hash "
                    f"{file_hash}, got {actual}."
                )
        # mkstemp creates the file owner-only; a cached download should be
        # readable like any other file (urlretrieve in Keras gives 0644).
        os.chmod(part, 0o644)
        os.replace(part, target)
    except BaseException:
        # Also on KeyboardInterrupt: never leave a partial file behind.
        try:
            os.remove(part)
        except FileNotFoundError:
            pass
        raise


def _copy_url(origin, out):
    """Streams the body of `origin` into the binary file `out`."""
    try:
        response = urllib.request.urlopen(origin, timeout=DOWNLOAD_TIMEOUT)
    except urllib.error.HTTPError as e:
        raise _fetch_error(origin, f"HTTP {e.code} {e.reason}") from e
    except urllib.error.URLError as e:
        raise _fetch_error(origin, e.reason) from e
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise _fetch_error(origin, e) from e
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received = 0
        while True:
            try:
                chunk = response.read(_CHUNK_SIZE)
            except (OSError, http.client.HTTPException) as e:
                raise _fetch_error(
                    origin, f"connection lost after {received} bytes ({e!r})"
                ) from e
            if not chunk:
                break
            out.write(chunk)
            received += len(chunk)
    # http.client returns b"" (no error) when the server hangs up early, so
    # the only way to notice a truncated body is to count the bytes.
    if expected is not None and received != expected:
        raise _fetch_error(
            origin,
            f"download interrupted: received {received} of {expected} bytes",
        )


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """Downloads a file from a URL unless it is already in the cache.

    The file lands in `<cache_dir>/<cache_subdir>/<fname>`, where `cache_dir`
    defaults to `$KERAS_HOME` or `~/.keras` (falling back to `/tmp/.keras`
    when that is not writable). A cached file is reused without any network
    access, unless `file_hash` is given and the file does not match it, in
    which case it is downloaded again. Downloads support `http(s)://` and
    `file://` URLs, go to a temporary file first and are only renamed to their
    final name once complete and verified.

    Args:
        fname: File name in the cache. `None` uses the last path component of
            `origin`. An absolute path is used as is.
        origin: URL of the file.
        untar: Deprecated archive option; not supported (raises).
        md5_hash: Deprecated; an md5 `file_hash`.
        file_hash: Expected sha256 or md5 hex digest of the file.
        cache_subdir: Subdirectory of the cache dir; an absolute path is used
            as is.
        hash_algorithm: `"auto"`, `"sha256"` or `"md5"`; `"auto"` picks by the
            hash's length.
        extract: Archive extraction; not supported (raises).
        archive_format: Only meaningful with `extract`; ignored.
        cache_dir: Base cache directory; `None` means `$KERAS_HOME` or
            `~/.keras`.
        force_download: Download even when a cached file exists.

    Returns:
        The path of the local file, a string.

    Raises:
        ValueError: Bad arguments, or the download does not match `file_hash`.
        OSError: The download failed; the message names the URL and reason.
        NotImplementedError: `untar` or `extract` was requested.

    Example:
        >>> path = get_file(
        ...     "mnist.npz",
        ...     origin="https://storage.googleapis.com/tensorflow/"
        ...     "tf-keras-datasets/mnist.npz",
        ...     file_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2c"
        ...     "c48468fc17b673d1",
        ... )  # doctest: +SKIP
    """
    if origin is None:
        raise ValueError(
            'Please specify the "origin" argument (URL of the file to '
            "download); received origin=None."
        )
    if untar or extract:
        raise NotImplementedError(
            "numpyflow's get_file does not extract archives "
            f"(received untar={untar!r}, extract={extract!r}); download with "
            "extract=False and unpack it with the tarfile or zipfile module."
        )
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = None
    if file_hash is not None:
        file_hash = str(file_hash)
        algorithm = _resolve_algorithm(file_hash, hash_algorithm)

    fname = os.fspath(fname) if fname is not None else ""
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse a file name from origin={origin!r}; "
                "please pass the `fname` argument."
            )

    datadir = os.path.join(cache_root(cache_dir), cache_subdir)
    fpath = os.path.join(datadir, fname)
    os.makedirs(os.path.dirname(os.path.abspath(fpath)), exist_ok=True)

    download = force_download or not os.path.exists(fpath)
    if not download and file_hash is not None:
        if hash_file(fpath, algorithm) != file_hash.lower():
            print(
                "A local file was found, but it seems to be incomplete or "
                f"outdated because the {algorithm} file hash does not match "
                f"the original value of {file_hash} so we will re-download "
                "the data.",
                flush=True,
            )
            download = True
    if download:
        print(f"Downloading data from {origin}", flush=True)
        _download(origin, fpath, file_hash, algorithm)
    return fpath
