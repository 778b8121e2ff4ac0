"""Tests for get_file and the mnist / fashion_mnist loaders.

Nothing here touches the network or the real ~/.keras: data is served from a
local HTTP server on 127.0.0.1 or from file:// URLs, KERAS_HOME and HOME point
into tmp_path, and any socket connection off the loopback address fails.
"""

import contextlib
import gzip
import hashlib
import http.server
import io
import os
import socket
import struct
import threading

import numpy as np
import pytest

from numpyflow.keras.datasets import fashion_mnist
from numpyflow.keras.datasets import mnist
from numpyflow.keras.utils import file_utils
from numpyflow.keras.utils import get_file

FASHION_FILES = fashion_mnist.FILES


# --------------------------------------------------------------------------
# Fixtures: isolation, a local HTTP server, tiny generated data sets.
# --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Points every cache location into tmp_path and forbids real network."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(
        file_utils.tempfile, "gettempdir", lambda: str(tmp_path / "tmp")
    )
    # Defaults point at the real web; send them somewhere that cannot answer
    # so a test that forgets to set an origin fails instead of downloading.
    nowhere = (tmp_path / "no-such-origin").as_uri() + "/"
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", nowhere)
    monkeypatch.setattr(fashion_mnist, "ORIGIN_FOLDER", nowhere)
    monkeypatch.setattr(mnist, "LOCAL_SOURCES", ())
    monkeypatch.setattr(fashion_mnist, "LOCAL_SOURCES", ())

    real_connect = socket.socket.connect

    def loopback_only(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            if address[0] not in ("127.0.0.1", "::1", "localhost"):
                raise AssertionError(f"test tried to reach {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    return tmp_path


class _Server:
    """Serves `files` (URL path -> bytes) and counts requests per path."""

    def __init__(self):
        self.files = {}
        self.truncate = set()  # paths whose body is cut short mid-stream
        self.requests = []

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self):
        state = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 5  # a stuck client cannot hang the test run

            def do_GET(self):
                path = self.path.lstrip("/")
                state.requests.append(path)
                body = state.files.get(path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if path in state.truncate:
                    # Promise the whole body, send half, hang up.
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self.thread.daemon = True
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server():
    srv = _Server().start()
    try:
        yield srv
    finally:
        srv.stop()


def _closed_port_url():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _tiny_mnist(seed=0, n_train=6, n_test=4):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, (n_train,), dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, (n_test,), dtype=np.uint8),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return arrays, buf.getvalue()


def _idx_bytes(array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _tiny_fashion(seed=1, n_train=5, n_test=3):
    """Returns ({name: array}, {name: gzipped IDX bytes}) for the 4 files."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, (n_train,)),
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, (n_test,)),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
    }
    arrays = {k: v.astype(np.uint8) for k, v in arrays.items()}
    blobs = {k: gzip.compress(_idx_bytes(v)) for k, v in arrays.items()}
    return arrays, blobs


def _write_files(directory, blobs):
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in blobs.items():
        (directory / name).write_bytes(data)
    return directory


def _leftovers(directory):
    return [p for p in os.listdir(directory) if p.endswith(".part")]


# --------------------------------------------------------------------------
# get_file
# --------------------------------------------------------------------------


def test_get_file_downloads_into_keras_home_then_reuses_cache(
    server, isolated, capsys
):
    server.files["data.bin"] = b"hello numpyflow" * 100
    origin = server.url + "data.bin"

    path = get_file("data.bin", origin=origin, file_hash=_sha256(
        server.files["data.bin"]))

    expected = isolated / "keras_home" / "datasets" / "data.bin"
    assert path == str(expected)
    assert expected.read_bytes() == server.files["data.bin"]
    assert f"Downloading data from {origin}" in capsys.readouterr().out

    assert get_file("data.bin", origin=origin) == path
    assert server.requests == ["data.bin"]  # no second request
    assert "Downloading" not in capsys.readouterr().out
    assert not _leftovers(expected.parent)


def test_get_file_derives_fname_from_origin_and_supports_file_urls(isolated):
    source = isolated / "src" / "weights.h5"
    source.parent.mkdir()
    source.write_bytes(b"\x00\x01\x02")

    path = get_file(origin=source.as_uri(), cache_subdir="models")

    assert path == str(isolated / "keras_home" / "models" / "weights.h5")
    assert open(path, "rb").read() == b"\x00\x01\x02"


def test_get_file_respects_cache_dir_argument_over_keras_home(server, isolated):
    server.files["a.txt"] = b"a"
    path = get_file(
        "a.txt", origin=server.url + "a.txt", cache_dir=str(isolated / "c")
    )
    assert path == str(isolated / "c" / "datasets" / "a.txt")


def test_get_file_falls_back_to_tmp_keras_when_cache_dir_unusable(
    server, isolated, monkeypatch
):
    blocker = isolated / "a_file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("KERAS_HOME", str(blocker / "keras"))
    server.files["a.txt"] = b"a"

    path = get_file("a.txt", origin=server.url + "a.txt")

    assert path == str(isolated / "tmp" / ".keras" / "datasets" / "a.txt")


def test_get_file_default_cache_is_home_dot_keras(server, isolated, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    server.files["a.txt"] = b"a"
    path = get_file("a.txt", origin=server.url + "a.txt")
    assert path == str(isolated / "home" / ".keras" / "datasets" / "a.txt")


@pytest.mark.parametrize("algorithm", ["auto", "md5"])
def test_get_file_accepts_md5(server, algorithm):
    server.files["a.txt"] = b"abc"
    md5 = hashlib.md5(b"abc").hexdigest()
    path = get_file(
        "a.txt", origin=server.url + "a.txt", file_hash=md5,
        hash_algorithm=algorithm,
    )
    assert open(path, "rb").read() == b"abc"
    path = get_file("b.txt", origin=server.url + "a.txt", md5_hash=md5)
    assert open(path, "rb").read() == b"abc"


def test_get_file_hash_mismatch_raises_and_leaves_no_file(server, isolated):
    server.files["data.bin"] = b"corrupted payload"
    wrong = _sha256(b"the real payload")

    with pytest.raises(ValueError) as info:
        get_file("data.bin", origin=server.url + "data.bin", file_hash=wrong)

    message = str(info.value)
    assert "data.bin" in message
    assert wrong in message
    assert _sha256(b"corrupted payload") in message
    datadir = isolated / "keras_home" / "datasets"
    assert not (datadir / "data.bin").exists()
    assert not _leftovers(datadir)


@pytest.mark.parametrize("with_hash", [True, False])
def test_interrupted_download_leaves_no_file(server, isolated, with_hash):
    body = bytes(range(256)) * 400
    server.files["big.bin"] = body
    server.truncate.add("big.bin")
    origin = server.url + "big.bin"

    with pytest.raises(OSError) as info:
        get_file(
            "big.bin", origin=origin,
            file_hash=_sha256(body) if with_hash else None,
        )

    assert origin in str(info.value)
    assert "interrupted" in str(info.value)
    datadir = isolated / "keras_home" / "datasets"
    assert not (datadir / "big.bin").exists()
    assert not _leftovers(datadir)


def test_cached_file_with_wrong_hash_is_downloaded_again(
    server, isolated, capsys
):
    server.files["data.bin"] = b"good data"
    datadir = isolated / "keras_home" / "datasets"
    datadir.mkdir(parents=True)
    (datadir / "data.bin").write_bytes(b"stale")

    path = get_file(
        "data.bin", origin=server.url + "data.bin",
        file_hash=_sha256(b"good data"),
    )

    assert open(path, "rb").read() == b"good data"
    assert server.requests == ["data.bin"]
    assert "so we will re-download" in capsys.readouterr().out


def test_http_error_names_url_and_status(server, isolated):
    origin = server.url + "missing.bin"
    with pytest.raises(OSError, match="404") as info:
        get_file("missing.bin", origin=origin)
    assert origin in str(info.value)
    assert not (isolated / "keras_home" / "datasets" / "missing.bin").exists()


def test_connection_refused_names_url():
    origin = _closed_port_url() + "x.bin"
    with pytest.raises(OSError, match="URL fetch failure on " + origin):
        get_file("x.bin", origin=origin)


def test_get_file_argument_errors(isolated):
    with pytest.raises(ValueError, match="origin"):
        get_file("x")
    with pytest.raises(NotImplementedError, match="extract"):
        get_file("x.tar.gz", origin="file:///x.tar.gz", extract=True)
    with pytest.raises(NotImplementedError, match="untar"):
        get_file("x", origin="file:///x.tar.gz", untar=True)
    with pytest.raises(ValueError, match="fname"):
        get_file(origin="http://127.0.0.1/")
    with pytest.raises(ValueError, match="abc"):
        get_file("x", origin="file:///x", file_hash="abc")
    with pytest.raises(ValueError, match="sha1"):
        get_file("x", origin="file:///x", file_hash="0" * 40,
                 hash_algorithm="sha1")


# --------------------------------------------------------------------------
# mnist
# --------------------------------------------------------------------------


def _serve_mnist(server, monkeypatch, seed=0):
    arrays, blob = _tiny_mnist(seed)
    server.files["mnist.npz"] = blob
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", server.url)
    monkeypatch.setattr(mnist, "FILE_HASH", _sha256(blob))
    return arrays, blob


def _check_mnist(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, name in ((x_train, "x_train"), (y_train, "y_train"),
                      (x_test, "x_test"), (y_test, "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])


def test_mnist_downloads_once_into_cache(server, isolated, monkeypatch):
    arrays, _ = _serve_mnist(server, monkeypatch)

    _check_mnist(mnist.load_data(), arrays)
    _check_mnist(mnist.load_data(), arrays)

    assert (isolated / "keras_home" / "datasets" / "mnist.npz").is_file()
    assert server.requests == ["mnist.npz"]


def test_mnist_uses_verified_local_source(isolated, monkeypatch):
    arrays, blob = _tiny_mnist(3)
    good = _write_files(isolated / "good", {"mnist.npz": blob})
    bad = _write_files(isolated / "bad", {"mnist.npz": b"not it"})
    monkeypatch.setattr(mnist, "FILE_HASH", _sha256(blob))
    monkeypatch.setattr(mnist, "LOCAL_SOURCES", (str(bad), str(good)))

    _check_mnist(mnist.load_data(), arrays)


def test_mnist_all_sources_fail_message(isolated, monkeypatch):
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", _closed_port_url())

    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data()

    message = str(info.value)
    assert "MNIST" in message
    assert mnist.ORIGIN_FOLDER + "mnist.npz" in message
    assert str(isolated / "keras_home" / "datasets") in message


# --------------------------------------------------------------------------
# fashion_mnist
# --------------------------------------------------------------------------


def _check_fashion(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    expected = [arrays[name] for name in FASHION_FILES]
    for got, want in zip((y_train, x_train, y_test, x_test), expected):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def test_fashion_mnist_downloads_into_cache_subdir(server, isolated, monkeypatch):
    arrays, blobs = _tiny_fashion()
    server.files.update(blobs)
    monkeypatch.setattr(fashion_mnist, "ORIGIN_FOLDER", server.url)

    _check_fashion(fashion_mnist.load_data(), arrays)
    _check_fashion(fashion_mnist.load_data(), arrays)

    cache = isolated / "keras_home" / "datasets" / "fashion-mnist"
    assert sorted(os.listdir(cache)) == sorted(FASHION_FILES)
    assert sorted(server.requests) == sorted(FASHION_FILES)


def test_fashion_mnist_reads_local_source_in_place(isolated, monkeypatch):
    arrays, blobs = _tiny_fashion(seed=7)
    debian = _write_files(isolated / "usr-share-datasets", blobs)
    monkeypatch.setattr(fashion_mnist, "LOCAL_SOURCES", (str(debian),))

    _check_fashion(fashion_mnist.load_data(), arrays)

    cache = isolated / "keras_home" / "datasets" / "fashion-mnist"
    assert not cache.exists() or not os.listdir(cache)


def test_fashion_mnist_cache_wins_over_local_source(isolated, monkeypatch):
    cached_arrays, cached_blobs = _tiny_fashion(seed=1)
    _, local_blobs = _tiny_fashion(seed=2)
    _write_files(isolated / "keras_home" / "datasets" / "fashion-mnist",
                 cached_blobs)
    local = _write_files(isolated / "local", local_blobs)
    monkeypatch.setattr(fashion_mnist, "LOCAL_SOURCES", (str(local),))

    _check_fashion(fashion_mnist.load_data(), cached_arrays)


def test_fashion_mnist_cache_dir_argument(server, isolated, monkeypatch):
    arrays, blobs = _tiny_fashion()
    server.files.update(blobs)
    monkeypatch.setattr(fashion_mnist, "ORIGIN_FOLDER", server.url)

    _check_fashion(fashion_mnist.load_data(cache_dir=str(isolated / "c")),
                   arrays)

    assert (isolated / "c" / "datasets" / "fashion-mnist" /
            FASHION_FILES[0]).is_file()


def test_fashion_mnist_all_sources_fail_message(isolated, monkeypatch):
    origin = _closed_port_url()
    monkeypatch.setattr(fashion_mnist, "ORIGIN_FOLDER", origin)
    monkeypatch.setattr(fashion_mnist, "LOCAL_SOURCES",
                        (str(isolated / "empty"),))

    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist.load_data()

    message = str(info.value)
    assert "Fashion-MNIST" in message
    for name in FASHION_FILES:
        assert origin + name in message
    assert str(isolated / "keras_home" / "datasets" / "fashion-mnist") in message
    assert str(isolated / "empty" / FASHION_FILES[0]) in message
    assert "apt-get install dataset-fashion-mnist" in message


@pytest.mark.parametrize(
    "corrupt, problem",
    [
        (lambda blob: blob[: len(blob) // 2], "decompress"),
        (lambda blob: gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 12),
         "shape"),
        (lambda blob: gzip.compress(b"\x12\x34\x08\x01" + b"\x00" * 8),
         "magic"),
        (lambda blob: gzip.compress(gzip.decompress(blob)[:-1]), "bytes"),
        (lambda blob: b"plain text, not gzip", "decompress"),
    ],
    ids=["truncated-gz", "zero-sized", "bad-magic", "short-body", "not-gzip"],
)
def test_fashion_mnist_corrupt_file_error_names_file(
    isolated, monkeypatch, corrupt, problem
):
    _, blobs = _tiny_fashion()
    name = "train-images-idx3-ubyte.gz"
    blobs[name] = corrupt(blobs[name])
    cache = _write_files(isolated / "keras_home" / "datasets" / "fashion-mnist",
                         blobs)

    with pytest.raises(ValueError) as info:
        fashion_mnist.load_data()

    message = str(info.value)
    assert str(cache / name) in message
    assert problem in message
    assert "Delete it" in message


def test_fashion_mnist_label_image_count_mismatch(isolated, monkeypatch):
    _, blobs = _tiny_fashion()
    labels = np.zeros(2, dtype=np.uint8)  # images file holds 5
    blobs["train-labels-idx1-ubyte.gz"] = gzip.compress(_idx_bytes(labels))
    _write_files(isolated / "keras_home" / "datasets" / "fashion-mnist", blobs)

    with pytest.raises(ValueError, match="5 images but 2 labels"):
        fashion_mnist.load_data()


# --------------------------------------------------------------------------
# Real data (Debian's dataset-fashion-mnist package)
# --------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_fashion_mnist_from_debian_package(monkeypatch):
    debian_dir = fashion_mnist.DEBIAN_DIR
    missing = [n for n in FASHION_FILES
               if not os.path.isfile(os.path.join(debian_dir, n))]
    # Fail, not skip: the real-data suite must not pass vacuously.
    assert not missing, (
        f"Fashion-MNIST files {missing} are missing from {debian_dir}. "
        "Run the tests with ./dev test, which installs the Debian package "
        "dataset-fashion-mnist (or: apt-get install dataset-fashion-mnist)."
    )
    monkeypatch.setattr(fashion_mnist, "LOCAL_SOURCES", (debian_dir,))

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()

    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    # Fashion-MNIST is balanced: 6000 / 1000 images of each of 10 classes.
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    assert x_train.max() == 255 and x_train.min() == 0
