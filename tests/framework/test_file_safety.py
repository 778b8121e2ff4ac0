"""Hostile and corrupt files against `framework.file_safety`, atomic saves, the IDX gzip bound.

Every crafted file is made here with zipfile/h5py/gzip; each refusal asserts the error,
that it came quickly with bounded memory, and that nothing was written outside the target.
"""

import gzip
import hashlib
import io
import os
import random
import signal
import stat
import struct
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
import zlib

import numpy as np
import pytest

from numpyflow.keras.datasets import _idx, fashion_mnist
from numpyflow.framework.file_safety import (
    DecompressedSizeError, UnsafeFileError, atomic_path, bounded_gunzip, open_h5, read_attribute,
    read_dataset, read_zip)

h5py = pytest.importorskip("h5py")

MiB = 1 << 20


class Bounded:
    """Asserts a block ran within `seconds` and allocated (Python-side) under `max_bytes`."""

    def __init__(self, seconds=5.0, max_bytes=16 * MiB):
        self.seconds, self.max_bytes = seconds, max_bytes

    def __enter__(self):
        tracemalloc.start()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        elapsed = time.perf_counter() - self.start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < self.seconds, f"took {elapsed:.1f}s"
        assert peak < self.max_bytes, f"peak Python allocation {peak} bytes"
        return False


def _zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    """A zip of (ZipInfo or name, data) pairs."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for info, data in members:
                archive.writestr(info, data)
    return buffer.getvalue()


def _patch_headers(blob, name, local_offset, central_offset, value, fmt="<I", bitwise_or=False):
    """Rewrites one field of a member's local and central headers."""
    blob = bytearray(blob)
    encoded = name.encode()
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        start = 0
        while (start := blob.find(signature, start)) != -1:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if blob[name_at:name_at + len(encoded)] == encoded:
                old = struct.unpack_from(fmt, blob, start + offset)[0]
                struct.pack_into(fmt, blob, start + offset, old | value if bitwise_or else value)
            start += 4
    return bytes(blob)


def _patch_sizes(blob, name, file_size):
    """Rewrites a member's declared uncompressed size."""
    return _patch_headers(blob, name, 22, 24, file_size)


def _bomb_zip(name, uncompressed_bytes, other_members=()):
    """A zip whose member inflates `uncompressed_bytes` of zeros, written in chunks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for other, data in other_members:
            archive.writestr(other, data)
        with archive.open(name, "w", force_zip64=True) as member:
            zeros = bytes(MiB)
            for _ in range(uncompressed_bytes // MiB):
                member.write(zeros)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- atomic_path


def test_atomic_path_writes_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.keras"
    with atomic_path(target) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, "wb") as f:
            f.write(b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["model.keras"]


def test_atomic_path_keeps_old_file_when_writer_raises(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old complete file")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(str(target)) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"half of the new")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old complete file"
    assert os.listdir(tmp_path) == ["model.keras"]


def test_atomic_path_permissions_follow_old_file_or_umask(tmp_path):
    target = tmp_path / "m.h5"
    with atomic_path(target) as tmp:
        open(tmp, "wb").close()
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    target.chmod(0o640)
    with atomic_path(target) as tmp:
        open(tmp, "wb").close()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_atomic_path_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-dir"):
        with atomic_path(tmp_path / "no-such-dir" / "m.keras"):
            pass
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        with atomic_path(tmp_path):
            pass


_WRITER = r"""
import hashlib, importlib.util, os, signal, sys

# file_safety.py is loaded alone (it needs only the standard library and NumPy) so the
# child starts fast.
spec = importlib.util.spec_from_file_location("file_safety", sys.argv[4])
file_safety = importlib.util.module_from_spec(spec)
spec.loader.exec_module(file_safety)
atomic_path = file_safety.atomic_path

target, mode, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
chunk_count, chunks_written = 32, 0

def write_version(f, version):
    global chunks_written
    digest = hashlib.sha256()
    f.write(b"v%08d\n" % version)
    for i in range(chunk_count):
        data = bytes([(version + i) % 256]) * 32768
        digest.update(data)
        f.write(data)
        f.flush()
        chunks_written += 1
        if chunks_written == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    f.write(digest.digest())

print("ready", flush=True)
for version in range(1, 10**6):
    if mode == "atomic":
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                write_version(f, version)
    else:
        with open(target, "wb") as f:
            write_version(f, version)
"""


def _write_complete(path, version=0):
    digest, body = hashlib.sha256(), b""
    for i in range(32):
        data = bytes([(version + i) % 256]) * 32768
        digest.update(data)
        body += data
    path.write_bytes(b"v%08d\n" % version + body + digest.digest())


def _is_complete(path):
    blob = path.read_bytes()
    body, digest = blob[10:-32], blob[-32:]
    return len(body) == 32 * 32768 and hashlib.sha256(body).digest() == digest


def _run_writer(target, mode, kill_after=-1, kill_at_seconds=None):
    from numpyflow.framework import file_safety
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), mode, str(kill_after),
                              file_safety.__file__],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"ready\n", child.stderr.read().decode()
        if kill_at_seconds is not None:
            time.sleep(kill_at_seconds)
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()


@pytest.mark.parametrize("kill_after", [1, 16, 32, 33, 70])
def test_atomic_path_survives_sigkill_at_chosen_points(tmp_path, kill_after):
    # A control writer without atomic_path, killed at the same point, tears the file: the
    # check below can fail.
    control = tmp_path / "control.bin"
    _write_complete(control)
    _run_writer(control, "plain", kill_after)
    if kill_after % 32:
        assert not _is_complete(control)

    target = tmp_path / "model.bin"
    _write_complete(target)
    _run_writer(target, "atomic", kill_after)
    assert _is_complete(target)
    version = int(target.read_bytes()[1:9])
    assert version == (kill_after - 1) // 32  # the last version whose write completed


def test_atomic_path_survives_sigkill_at_random_moments(tmp_path):
    rng = random.Random(11)
    versions = set()
    for attempt in range(6):
        target = tmp_path / f"model{attempt}.bin"
        _write_complete(target)
        _run_writer(target, "atomic", kill_at_seconds=rng.uniform(0.0, 0.6))
        assert _is_complete(target), f"torn file after kill {attempt}"
        versions.add(int(target.read_bytes()[1:9]))
        strays = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        for stray in strays:  # a kill may leave the unfinished temporary beside it
            assert stray.startswith(f".model{attempt}.bin.")
            os.unlink(tmp_path / stray)
    assert len(versions) > 1, versions  # kills landed at different points of the sequence


# ----------------------------------------------------------------------------- read_zip


def test_read_zip_reads_members_from_path_file_and_bytes(tmp_path):
    blob = _zip_bytes([("metadata.json", b'{"a": 1}'), ("assets/", b""),
                       ("model.weights.h5", b"\x00" * 100)])
    path = tmp_path / "m.keras"
    path.write_bytes(blob)
    expected = {"metadata.json": b'{"a": 1}', "model.weights.h5": b"\x00" * 100}
    assert read_zip(path) == expected
    assert read_zip(str(path)) == expected
    assert read_zip(blob) == expected
    with open(path, "rb") as f:
        assert read_zip(f) == expected


@pytest.mark.parametrize("name, reason", [
    ("../evil_marker", "'..'"),
    ("assets/../../evil_marker", "'..'"),
    ("/tmp/evil_marker", "absolute"),
    ("C:/evil_marker", "absolute"),
    ("assets\\..\\evil_marker", "backslash"),
    ("assets/./x", "'.'"),
])
def test_read_zip_refuses_path_traversal(tmp_path, monkeypatch, name, reason):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    path = work / "m.keras"
    path.write_bytes(_zip_bytes([("config.json", b"{}"), (name, b"payload")]))
    with pytest.raises(UnsafeFileError) as info:
        read_zip(path)
    message = str(info.value)
    assert str(path) in message and repr(name) in message and reason in message
    assert not list(tmp_path.rglob("evil_marker"))
    assert not os.path.exists("/tmp/evil_marker")


@pytest.mark.parametrize("kind, word", [(stat.S_IFLNK, "symlink"), (stat.S_IFCHR, "not a regular"),
                                        (stat.S_IFIFO, "not a regular")])
def test_read_zip_refuses_links_and_devices(tmp_path, kind, word):
    info = zipfile.ZipInfo("model.weights.h5")
    info.create_system = 3
    info.external_attr = (kind | 0o777) << 16
    path = tmp_path / "m.keras"
    path.write_bytes(_zip_bytes([(info, b"/etc/passwd")]))
    with pytest.raises(UnsafeFileError, match=word) as error:
        read_zip(path)
    assert "model.weights.h5" in str(error.value)


def test_read_zip_accepts_regular_unix_modes():
    info = zipfile.ZipInfo("config.json")
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    assert read_zip(_zip_bytes([(info, b"{}")])) == {"config.json": b"{}"}


def test_read_zip_refuses_duplicates_and_encryption():
    blob = _zip_bytes([("config.json", b"{}"), ("config.json", b'{"evil": 1}')])
    with pytest.raises(UnsafeFileError, match="'config.json' appears more than once"):
        read_zip(blob)
    encrypted = _patch_headers(_zip_bytes([("config.json", b"{}")]), "config.json", 6, 8, 0x1,
                               fmt="<H", bitwise_or=True)
    with pytest.raises(UnsafeFileError, match="'config.json' is encrypted"):
        read_zip(encrypted)


def test_read_zip_refuses_declared_sizes_over_limits():
    blob = _zip_bytes([("a", b"x" * 100), ("b", b"y" * 100)])
    with pytest.raises(UnsafeFileError, match="'a' declares 100 bytes.*max_member_bytes"):
        read_zip(blob, max_member_bytes=99)
    with pytest.raises(UnsafeFileError, match="max_total_bytes"):
        read_zip(blob, max_total_bytes=150)
    # A declared 4 GiB member in a tiny file is refused by the default limit, unread.
    huge = _patch_sizes(blob, "a", 0xFFFFFFF0)
    with Bounded(seconds=1, max_bytes=MiB):
        with pytest.raises(UnsafeFileError, match="declares 4294967280 bytes"):
            read_zip(huge)


def test_read_zip_refuses_data_beyond_declared_size():
    # 8 MiB of data declared as 1000 bytes: reading stops at 1001, whatever the stream holds.
    blob = _patch_sizes(_zip_bytes([("model.weights.h5", bytes(8 * MiB))]),
                        "model.weights.h5", 1000)
    with Bounded(seconds=2, max_bytes=4 * MiB):
        with pytest.raises(UnsafeFileError, match="model.weights.h5"):
            read_zip(blob)


def test_read_zip_refuses_data_short_of_declared_size():
    # zipfile itself returns the 300 bytes silently when 10000 are declared.
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        blob = _patch_sizes(_zip_bytes([("config.json", b"abc" * 100)], compression),
                            "config.json", 10000)
        with pytest.raises(UnsafeFileError, match="declares 10000 bytes but holds 300"):
            read_zip(blob)


def test_read_zip_refuses_zip_bomb_by_ratio():
    blob = _bomb_zip("model.weights.h5", 24 * MiB)
    assert len(blob) < 64 * 1024
    with Bounded(seconds=1, max_bytes=2 * MiB):
        with pytest.raises(UnsafeFileError, match="ratio over 1000:1"):
            read_zip(blob)
    # Highly compressible data below the exemption size is fine.
    assert read_zip(_bomb_zip("small", MiB)) == {"small": bytes(MiB)}


@pytest.mark.parametrize("blob", [b"", b"not a zip at all",
                                  _zip_bytes([("config.json", b"{}")])[:-10]])
def test_read_zip_refuses_non_zip(blob):
    with pytest.raises(UnsafeFileError, match="not a readable zip archive"):
        read_zip(blob)


def test_read_zip_refuses_corrupt_member_data():
    blob = bytearray(_zip_bytes([("config.json", b'{"layers": []}' * 50)]))
    blob[40:50] = b"\xff" * 10  # inside the deflated data
    with pytest.raises(UnsafeFileError, match="not a readable zip archive"):
        read_zip(bytes(blob))


def test_read_zip_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_zip(tmp_path / "nope.keras")


# ----------------------------------------------------------------------------- open_h5


def _h5(path, build):
    with h5py.File(path, "w") as f:
        build(f)
    return path


def test_open_h5_reads_path_bytes_and_buffer(tmp_path):
    def build(f):
        layer = f.create_group("layers/dense/vars")
        layer.create_dataset("0", data=np.arange(6, dtype="float32").reshape(2, 3))
        layer.create_dataset("1", data=np.zeros(3, "float32"), compression="gzip")
        f.create_dataset("scalar", data=3.5)
        f.attrs["names"] = [b"dense"]
        f["alias"] = h5py.SoftLink("/layers/dense")
        f["layers/dense/loop"] = f["layers"]  # a hard-link cycle is walked once
    path = _h5(tmp_path / "w.h5", build)
    for source in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes())):
        with open_h5(source) as f:
            kernel = read_dataset(f["layers/dense/vars/0"])
            np.testing.assert_array_equal(kernel, np.arange(6).reshape(2, 3))
            assert kernel.dtype == np.float32 and kernel.flags.writeable
            assert read_dataset(f["scalar"]) == 3.5
            assert read_attribute(f, "names").tolist() == ["dense"]
            assert read_dataset(f["alias/vars/1"]).shape == (3,)


def test_open_h5_refuses_external_link(tmp_path):
    secret = _h5(tmp_path / "secret.h5", lambda f: f.create_dataset("x", data=[42]))
    path = _h5(tmp_path / "w.h5",
               lambda f: f.create_group("layers").__setitem__(
                   "x", h5py.ExternalLink(str(secret), "/x")))
    with pytest.raises(UnsafeFileError) as info:
        open_h5(path)
    message = str(info.value)
    assert str(path) in message and "/layers/x" in message and "secret.h5" in message


def test_open_h5_refuses_external_storage(tmp_path):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.arange(4, dtype="f8").tobytes())
    path = _h5(tmp_path / "w.h5", lambda f: f.create_dataset(
        "kernel", shape=(4,), dtype="f8", external=[(str(raw), 0, 32)]))
    with pytest.raises(UnsafeFileError, match=r"'/kernel' stores its data in external.*raw.bin"):
        open_h5(path)


def test_open_h5_refuses_virtual_dataset(tmp_path):
    source = _h5(tmp_path / "src.h5", lambda f: f.create_dataset("x", data=np.ones(4)))

    def build(f):
        layout = h5py.VirtualLayout(shape=(4,), dtype="f8")
        layout[:] = h5py.VirtualSource(str(source), "x", shape=(4,))
        f.create_virtual_dataset("kernel", layout)
    path = _h5(tmp_path / "w.h5", build)
    with pytest.raises(UnsafeFileError, match="'/kernel' is a virtual dataset"):
        open_h5(path)


def test_open_h5_refuses_shape_bomb_quickly(tmp_path):
    path = _h5(tmp_path / "w.h5", lambda f: f.create_dataset(
        "vars/0", shape=(2**40,), dtype="f8", chunks=True))
    assert path.stat().st_size < 64 * 1024
    with Bounded(seconds=1, max_bytes=MiB):
        with pytest.raises(UnsafeFileError, match=r"'/vars/0' declares shape \(1099511627776,\)"):
            open_h5(path)


def test_open_h5_refuses_chunk_bomb_and_honours_explicit_limit(tmp_path):
    path = _h5(tmp_path / "w.h5", lambda f: f.create_dataset(
        "x", shape=(1,), maxshape=(None,), dtype="f8", chunks=(2**28,)))
    with pytest.raises(UnsafeFileError, match="declares chunks"):
        open_h5(path)
    small = _h5(tmp_path / "s.h5", lambda f: f.create_dataset("x", data=np.zeros(100)))
    with pytest.raises(UnsafeFileError, match="'/x' declares shape"):
        open_h5(small, max_dataset_bytes=799)
    with open_h5(small, max_dataset_bytes=800) as f:
        assert read_dataset(f["x"]).shape == (100,)


def test_open_h5_refuses_large_attribute(tmp_path):
    path = _h5(tmp_path / "w.h5", lambda f: f.attrs.__setitem__("weight_names", np.zeros(1000)))
    with pytest.raises(UnsafeFileError, match="attribute 'weight_names'"):
        open_h5(path, max_dataset_bytes=1000)


def test_open_h5_soft_links(tmp_path):
    dangling = _h5(tmp_path / "d.h5", lambda f: f.__setitem__("x", h5py.SoftLink("/nowhere")))
    with pytest.raises(UnsafeFileError, match="soft link '/x' -> '/nowhere' does not resolve"):
        open_h5(dangling)

    def cycle(f):
        f["a"] = h5py.SoftLink("/b")
        f["b"] = h5py.SoftLink("/a")
    with Bounded(seconds=2):
        with pytest.raises(UnsafeFileError, match="does not resolve"):
            open_h5(_h5(tmp_path / "c.h5", cycle))

    secret = _h5(tmp_path / "secret.h5", lambda f: f.create_dataset("x", data=[1]))

    def via_external(f):
        f["ext"] = h5py.ExternalLink(str(secret), "/")
        f["soft"] = h5py.SoftLink("/ext/x")
    with pytest.raises(UnsafeFileError, match="external link|leaves the file"):
        open_h5(_h5(tmp_path / "v.h5", via_external))


def test_read_dataset_and_attribute_refuse_object_dtypes(tmp_path):
    def build(f):
        f.create_dataset("names", data=["a", "b"], dtype=h5py.string_dtype())
        f.create_dataset("ragged", shape=(2,), dtype=h5py.vlen_dtype("i4"))
        f.create_dataset("refs", shape=(1,), dtype=h5py.ref_dtype)
        f.attrs["model_config"] = '{"class_name": "Sequential"}'
        ragged = np.empty(1, dtype=object)
        ragged[0] = np.arange(2, dtype="i4")
        f.attrs.create("ragged", ragged, dtype=h5py.vlen_dtype("i4"))
    with open_h5(_h5(tmp_path / "w.h5", build)) as f:
        for name in ("names", "ragged", "refs"):
            with pytest.raises(UnsafeFileError, match=f"dataset '/{name}' has dtype"):
                read_dataset(f[name])
        assert read_attribute(f, "model_config") == '{"class_name": "Sequential"}'
        with pytest.raises(UnsafeFileError, match="attribute 'ragged'"):
            read_attribute(f, "ragged")
        with pytest.raises(KeyError, match="no attribute 'missing'"):
            read_attribute(f, "missing")


@pytest.mark.parametrize("blob", [b"", b"not hdf5" * 100, b"\x89HDF\r\n\x1a\n" + b"\x00" * 100])
def test_open_h5_refuses_non_hdf5(tmp_path, blob):
    path = tmp_path / "w.h5"
    path.write_bytes(blob)
    with pytest.raises(UnsafeFileError, match="not a readable HDF5 file"):
        open_h5(path)


def test_open_h5_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_h5(tmp_path / "nope.h5")


# ----------------------------------------------------------------------------- gzip


def _gzip_bomb(prefix, zero_bytes):
    """gzip of `prefix` followed by `zero_bytes` zeros, compressed in chunks."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts, zeros = [compressor.compress(prefix)], bytes(MiB)
    for _ in range(zero_bytes // MiB):
        parts.append(compressor.compress(zeros))
    parts.append(compressor.flush())
    return b"".join(parts)


def test_bounded_gunzip_reads_bytes_paths_and_multi_member(tmp_path):
    assert bounded_gunzip(gzip.compress(b"abc"), max_bytes=3) == b"abc"
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"ab") + gzip.compress(b"cd"))
    assert bounded_gunzip(path, max_bytes=10) == b"abcd"
    with pytest.raises(DecompressedSizeError, match="more than 3 bytes"):
        bounded_gunzip(path, max_bytes=3)


def test_bounded_gunzip_refuses_bomb_with_bounded_memory():
    bomb = _gzip_bomb(b"", 64 * MiB)
    assert len(bomb) < 128 * 1024
    with Bounded(seconds=2, max_bytes=8 * MiB):
        with pytest.raises(DecompressedSizeError, match="more than 1000000 bytes"):
            bounded_gunzip(bomb, max_bytes=1_000_000)


@pytest.mark.parametrize("blob", [b"plain text", gzip.compress(b"x" * 1000)[:-12]])
def test_bounded_gunzip_refuses_corrupt(blob):
    with pytest.raises(UnsafeFileError, match="not valid gzip data") as info:
        bounded_gunzip(blob, max_bytes=10**6)
    assert not isinstance(info.value, DecompressedSizeError)


def _idx_header(shape):
    return struct.pack(">BBBB", 0, 0, 0x08, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def test_idx_gzip_bomb_is_refused_at_the_declared_size(tmp_path):
    # A valid header for 5 images, then 64 MiB of zeros: before the bound this cost 64 MiB
    # (and a 1 MB bomb cost 1 GB).
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(_gzip_bomb(_idx_header((5, 28, 28)), 64 * MiB))
    with Bounded(seconds=2, max_bytes=8 * MiB):
        with pytest.raises(_idx.IDXFormatError) as info:
            _idx.read_idx_gz(path)
    message = str(info.value)
    assert str(path) in message and "holds more bytes than that" in message


def test_idx_header_declaring_impossible_size_is_refused_unread(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_header((2**31, 28, 28)) + bytes(100)))
    with Bounded(seconds=1, max_bytes=MiB):
        with pytest.raises(_idx.IDXFormatError, match="more than .* compressed bytes can hold"):
            _idx.read_idx_gz(path)


def test_fashion_mnist_cache_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(fashion_mnist, "LOCAL_SOURCES", ())
    cache = tmp_path / "keras_home" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for name in fashion_mnist.FILES:
        shape = (3,) if "labels" in name else (3, 28, 28)
        data = _idx_header(shape) + bytes(int(np.prod(shape)))
        (cache / name).write_bytes(gzip.compress(data))
    bombed = cache / "train-labels-idx1-ubyte.gz"
    bombed.write_bytes(_gzip_bomb(_idx_header((3,)), 32 * MiB))
    with Bounded(seconds=2, max_bytes=8 * MiB):
        with pytest.raises(ValueError, match="holds more bytes") as info:
            fashion_mnist.load_data()
    assert str(bombed) in str(info.value)


def test_open_h5_bounds_the_number_of_links(tmp_path, monkeypatch):
    from numpyflow.framework import file_safety
    monkeypatch.setattr(file_safety, "_MAX_H5_OBJECTS", 5)
    path = _h5(tmp_path / "w.h5", lambda f: [f.create_group(f"g{i}") for i in range(6)])
    with pytest.raises(UnsafeFileError, match="more than 5 HDF5 objects"):
        open_h5(path)


def test_open_h5_names_an_in_memory_source(tmp_path):
    path = _h5(tmp_path / "w.h5", lambda f: f.create_dataset("x", shape=(2**40,), dtype="f8",
                                                             chunks=True))
    buffer = io.BytesIO(path.read_bytes())
    buffer.name = "m.keras (model.weights.h5)"
    with pytest.raises(UnsafeFileError, match=r"^m\.keras \(model\.weights\.h5\): dataset '/x'"):
        open_h5(buffer)


# ----------------------------------------------------------------------------- load_model


def _saved_members(tmp_path):
    """The members of a small `.keras` file saved by numpyflow, and the model's input."""
    import numpyflow as tf
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2, name="out")])
    model.save(tmp_path / "valid.keras")
    with zipfile.ZipFile(tmp_path / "valid.keras") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _weights_with(members, edit):
    """`model.weights.h5` of `members` after `edit(h5file)`."""
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "r+") as f:
        edit(f)
    return buffer.getvalue()


def _replace_kernel(f, new):
    del f["layers/dense/vars/0"]
    new(f["layers/dense/vars"])


def _crafted_archives(tmp_path, members):
    """(name, archive bytes, expected message) for each hostile `.keras` file."""
    secret = _h5(tmp_path / "secret.h5", lambda f: f.create_dataset("k", data=np.ones((3, 2))))
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.ones(6, "f4").tobytes())
    virtual_source = _h5(tmp_path / "vsrc.h5", lambda f: f.create_dataset("k", data=np.ones(6)))

    def virtual(group):
        layout = h5py.VirtualLayout(shape=(3, 2), dtype="f4")
        layout[:] = h5py.VirtualSource(str(virtual_source), "k", shape=(3, 2))
        group.create_virtual_dataset("0", layout)

    symlink = zipfile.ZipInfo("model.weights.h5")
    symlink.create_system = 3
    symlink.external_attr = (stat.S_IFLNK | 0o777) << 16
    base = [(name, data) for name, data in members.items()]
    without_weights = [(n, d) for n, d in base if n != "model.weights.h5"]
    weights = {
        "shape-bomb": (lambda g: g.create_dataset("0", shape=(2**40, 2), dtype="f4",
                                                  chunks=True), "declares shape"),
        "external-link": (lambda g: g.__setitem__("0", h5py.ExternalLink(str(secret), "/k")),
                          "external link"),
        "external-storage": (lambda g: g.create_dataset(
            "0", shape=(3, 2), dtype="f4", external=[(str(raw), 0, 24)]), "external file"),
        "virtual": (virtual, "virtual dataset"),
    }
    crafted = [
        ("zip-slip", base + [("../evil_marker", b"payload")], "'..'"),
        ("absolute", base + [(str(tmp_path / "evil_marker"), b"payload")], "absolute"),
        ("symlink", without_weights + [(symlink, str(secret).encode())], "symlink"),
        ("duplicate", base + [("config.json", b'{"class_name": "Evil"}')],
         "appears more than once"),
    ]
    crafted = [(name, _zip_bytes(entries), message) for name, entries, message in crafted]
    crafted.append(("zip-bomb", _bomb_zip("assets/bomb.bin", 24 * MiB, base), "ratio"))
    for name, (edit, message) in weights.items():
        entries = without_weights + [
            ("model.weights.h5", _weights_with(members, lambda f, e=edit: _replace_kernel(f, e)))]
        crafted.append((name, _zip_bytes(entries), message))
    return crafted


def _listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_load_model_refuses_crafted_archives(tmp_path):
    import numpyflow as tf
    members = _saved_members(tmp_path)
    (tmp_path / "aux").mkdir()
    crafted = _crafted_archives(tmp_path / "aux", members)
    assert len(crafted) == 9
    target = tmp_path / "target"
    target.mkdir()
    for name, blob, message in crafted:
        path = target / f"{name}.keras"
        path.write_bytes(blob)
        before = _listing(tmp_path)
        for load_model in (tf.keras.models.load_model, tf.keras.saving.load_model):
            with Bounded(seconds=3, max_bytes=16 * MiB):
                with pytest.raises(UnsafeFileError) as info:
                    load_model(path)
            assert str(path) in str(info.value), name
            assert message in str(info.value), (name, str(info.value))
        assert _listing(tmp_path) == before, name
        assert not list(tmp_path.parent.rglob("evil_marker")), name
    # The untouched archive loads: the refusals above come from the crafted parts.
    model = tf.keras.models.load_model(tmp_path / "valid.keras")
    assert model.get_layer("out").kernel.shape == (3, 2)


def test_load_weights_refuses_hdf5_shape_bomb(tmp_path):
    import numpyflow as tf
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2, name="out")])
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        _replace_kernel(f, lambda g: g.create_dataset("0", shape=(2**40, 2), dtype="f4",
                                                      chunks=True))
    before = model.get_layer("out").kernel.numpy().copy()
    with Bounded(seconds=2):
        with pytest.raises(UnsafeFileError, match="declares shape"):
            model.load_weights(path)
    np.testing.assert_array_equal(model.get_layer("out").kernel.numpy(), before)
