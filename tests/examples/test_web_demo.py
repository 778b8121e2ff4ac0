"""The browser demo (examples/web): exported by its own script, served by its own server, run
in headless Chromium through Playwright, checked against `model.predict`.

A small model (the demo's architecture with fixed random weights, so no dataset is needed) is
written by `export_model.export_demo`, served by `serve.make_server` on an ephemeral port of
127.0.0.1, and classified in the page through its UI: clicking a test image and drawing on the
pad. Both runtimes (TensorFlow.js, ONNX Runtime Web) must pick `model.predict`'s class with
every probability within 1e-4. Every request the page makes is recorded; one to a host other
than localhost fails the test (and is aborted, so nothing leaves the machine).

Needs Debian's `chromium` and the `playwright` package (`./dev test` installs both, and the
npm packages); skips with the reason when either is missing.
"""

import importlib.util
import json
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pytest

import numpyflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB = os.path.join(ROOT, "examples", "web")
TOLERANCE = 1e-4
LOCAL_HOSTS = ("127.0.0.1", "localhost")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RUNTIMES = ("tfjs", "onnx")


def _load(name):
    spec = importlib.util.spec_from_file_location(f"web_demo_{name}",
                                                  os.path.join(WEB, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


export_model = _load("export_model")
serve = _load("serve")


# -- Fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model():
    """The demo's model with seeded random weights, small enough that the probabilities
    spread over several classes (a near one-hot output would hide probability errors)."""
    model = export_model.build_model()
    rng = np.random.default_rng(13)
    for variable in model.weights:
        variable.assign(rng.normal(0.0, 0.08, tuple(variable.shape)).astype(np.float32))
    return model


@pytest.fixture(scope="module")
def images():
    """Ten 28x28 uint8 images: a bright blob on black at a different place in each."""
    rng = np.random.default_rng(7)
    rows, cols = np.mgrid[0:28, 0:28]
    result = []
    for i in range(10):
        center = rng.uniform(6, 22, 2)
        blob = np.exp(-((rows - center[0]) ** 2 + (cols - center[1]) ** 2) / (2 * (3 + i) ** 2))
        result.append(np.clip(255 * blob + rng.normal(0, 20, (28, 28)), 0, 255))
    return np.asarray(result, np.uint8)


@pytest.fixture(scope="module")
def artifacts(model, images, tmp_path_factory):
    out = tmp_path_factory.mktemp("web") / "artifacts"
    demo = export_model.export_demo(model, str(out), images, np.arange(10))
    return out, demo


@pytest.fixture(scope="module")
def server(artifacts):
    httpd = serve.make_server(str(artifacts[0]), port=0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the `playwright` package is not installed: pip install 'numpyflow[test]' "
                    "(./dev test does) to drive Chromium in the browser demo test.")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Debian's Chromium is not installed ({CHROMIUM} missing): ./dev test "
                    "installs it (apt-get install chromium).")
    missing = [folder for folder in serve.RUNTIME_DIRS.values() if not os.path.isdir(folder)]
    if missing:
        if shutil.which("npm") is None:
            pytest.skip(f"{missing[0]} is missing and npm is not installed.")
        pytest.fail(f"{missing[0]} is missing: run `./dev test` (it runs `npm ci "
                    "--ignore-scripts`) or `npm ci --ignore-scripts` at the repo root.")
    with sync_playwright() as playwright:
        # No `playwright install`: Debian's Chromium; chromium_sandbox=False (the default)
        # passes --no-sandbox, which running as root needs.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


class RequestGuard:
    """Records every request of a browser context; aborts (and remembers) those that go to a
    host other than localhost, so the test can fail on them without anything leaving."""

    def __init__(self, context):
        self.urls = []
        self.external = []
        context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        self.urls.append(url)
        if urllib.parse.urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.external.append(url)
            route.abort()


@pytest.fixture
def page(browser, server):
    """The demo page, loaded and ready; checks afterwards that it stayed on localhost and
    raised no JavaScript error."""
    context = browser.new_context(viewport={"width": 1000, "height": 720})
    guard = RequestGuard(context)
    errors = []
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "/")
    page.evaluate("() => window.numpyflowDemo.ready")
    page.guard = guard
    yield page
    context.close()
    assert guard.external == [], f"the page requested hosts other than localhost: {guard.external}"
    assert errors == [], errors


def _panel(page, runtime, input_id):
    """(class name shown, class index, probabilities) of one runtime's result for input_id."""
    page.wait_for_selector(f'#{runtime}[data-state="done"][data-input="{input_id}"]')
    name = page.text_content(f"#{runtime} .top .name")
    index = int(page.get_attribute(f"#{runtime}", "data-class-index"))
    probabilities = page.eval_on_selector_all(
        f"#{runtime} .probs li", "rows => rows.map(row => Number(row.dataset.probability))")
    return name, index, np.asarray(probabilities)


def _check_runtime(page, runtime, input_id, expected, demo):
    if runtime == "onnx":
        assert demo["onnx"] == "model.onnx", \
            f"model.export(format='onnx') failed: {demo['onnx_unavailable']}"
    name, index, probabilities = _panel(page, runtime, input_id)
    assert index == int(np.argmax(expected))
    assert name == export_model.CLASS_NAMES[index]
    assert probabilities.shape == expected.shape
    difference = np.max(np.abs(probabilities - expected))
    assert difference <= TOLERANCE, (runtime, difference)


# -- The page in Chromium ------------------------------------------------------------------

@pytest.mark.parametrize("runtime", RUNTIMES)
def test_clicked_test_images_match_model_predict(page, model, images, artifacts, runtime):
    demo = artifacts[1]
    expected = model.predict(images / 255.0, verbose=0)
    assert np.max(expected) < 0.95 and len(set(np.argmax(expected, -1))) >= 3, \
        "the test model should spread its probabilities and predict several classes"
    for index in (0, 4, 9):
        page.click(f'.samples button[data-index="{index}"]')
        _check_runtime(page, runtime, f"sample-{index}", expected[index], demo)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_drawing_on_the_pad_matches_model_predict(page, model, artifacts, runtime):
    box = page.locator("#pad").bounding_box()
    strokes = [[(70, 40), (210, 40), (250, 110)], [(100, 40), (100, 250), (180, 250),
                                                   (180, 40)]]
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
        page.mouse.up()
    _panel(page, "tfjs", f"drawing-{len(strokes)}")  # both strokes classified
    pixels = np.asarray(page.evaluate("() => Array.from(window.numpyflowDemo.lastInput)"),
                        np.float32).reshape(1, 28, 28)
    # The strokes are in the pad's scaled-down pixels: column 10 (x=100) bright, corners dark.
    assert pixels[0, 15, 10] > 0.5 and pixels[0, 27, 27] == 0 and pixels[0, 27, 0] == 0
    expected = model.predict(pixels, verbose=0)[0]
    _check_runtime(page, runtime, f"drawing-{len(strokes)}", expected, artifacts[1])


def test_page_requests_only_local_files(page, artifacts):
    assert page.guard.urls and page.guard.external == []
    paths = {urllib.parse.urlsplit(url).path for url in page.guard.urls}
    expected = {"/app.js", "/artifacts/demo.json", "/artifacts/tfjs/model.json",
                "/node_modules/@tensorflow/tfjs/dist/tf.fesm.min.js", "/artifacts/model.onnx",
                "/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm"}
    assert expected <= paths, sorted(paths)


def test_request_guard_catches_other_hosts(browser, server):
    """The guard the other tests rely on: a request to another host is recorded and never
    sent."""
    context = browser.new_context()
    guard = RequestGuard(context)
    page = context.new_page()
    page.goto(server + "/")
    page.evaluate("() => fetch('https://cdn.jsdelivr.net/npm/x.js').catch(() => 'blocked')")
    context.close()
    assert guard.external == ["https://cdn.jsdelivr.net/npm/x.js"]


def test_a_model_onnx_cannot_take_leaves_tfjs_working(browser, model, images, tmp_path,
                                                       monkeypatch):
    """export_demo records why ONNX failed; the page shows it and TF.js still classifies."""
    export = type(model).export

    def export_without_onnx(self, filepath, format="tf_saved_model", **kwargs):
        if format == "onnx":
            raise NotImplementedError("no ONNX rule for layer 'dense' (test)")
        return export(self, filepath, format=format, **kwargs)

    monkeypatch.setattr(type(model), "export", export_without_onnx)
    demo = export_model.export_demo(model, str(tmp_path), images[:1])
    assert demo["onnx"] is None and not (tmp_path / "model.onnx").exists()
    assert demo["onnx_unavailable"] == "no ONNX rule for layer 'dense' (test)"
    httpd = serve.make_server(str(tmp_path), port=0, quiet=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/")
        page.evaluate("() => window.numpyflowDemo.ready")
        assert page.get_attribute("#onnx", "data-state") == "unavailable"
        assert page.text_content("#onnx .message") == \
            "No model.onnx: no ONNX rule for layer 'dense' (test)"
        page.click('.samples button[data-index="0"]')
        _, index, _ = _panel(page, "tfjs", "sample-0")
        assert index == int(np.argmax(model.predict(images[:1] / 255.0, verbose=0)))
    finally:
        context.close()
        httpd.shutdown()
        httpd.server_close()


def test_classify_hook_rejects_a_wrong_size(page):
    message = page.evaluate(
        "() => window.numpyflowDemo.classify([1, 2, 3]).then(() => 'ran', e => e.message)")
    assert message == "classify: expected 784 pixels (28x28), got 3"


# -- The export script and the server (no browser) -----------------------------------------

def test_export_demo_writes_what_the_page_reads(artifacts, images):
    out, demo = artifacts
    assert json.loads((out / "demo.json").read_text()) == demo
    assert demo["class_names"][9] == "Ankle boot" and len(demo["class_names"]) == 10
    assert demo["input_shape"] == [28, 28]
    assert [s["label"] for s in demo["samples"]] == list(range(10))
    assert np.array_equal(np.asarray([s["pixels"] for s in demo["samples"]]),
                          images.reshape(10, -1))
    assert (out / "tfjs" / "model.json").is_file() and (out / "model.onnx").is_file()
    assert demo["onnx"] == "model.onnx" and demo["onnx_unavailable"] is None


def test_export_demo_refuses_bad_input(tmp_path, images):
    logits = tf.keras.Sequential([tf.keras.Input((28, 28)), tf.keras.layers.Flatten(),
                                  tf.keras.layers.Dense(10)])
    rng = np.random.default_rng(0)
    for variable in logits.weights:
        variable.assign(rng.normal(0, 1, tuple(variable.shape)).astype(np.float32))
    with pytest.raises(ValueError, match="end the model with a softmax"):
        export_model.export_demo(logits, str(tmp_path), images)
    with pytest.raises(ValueError, match=r"uint8 of shape \(n, 28, 28\).*float64"):
        export_model.export_demo(export_model.build_model(), str(tmp_path), images / 255.0)
    assert not os.listdir(tmp_path)  # nothing written


def test_export_demo_replaces_a_stale_onnx_file(tmp_path, model, images):
    (tmp_path / "model.onnx").write_bytes(b"stale")
    export_model.export_demo(model, str(tmp_path), images[:2])
    assert (tmp_path / "model.onnx").read_bytes() != b"stale"


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type")
    except urllib.error.HTTPError as error:
        return error.code, None


def test_server_types_and_refusals(server):
    assert server.startswith("http://127.0.0.1:")
    assert _get(server + "/") == (200, "text/html")
    assert _get(server + "/app.js") == (200, "text/javascript")
    assert _get(server + "/artifacts/demo.json") == (200, "application/json")
    ort = server + "/node_modules/onnxruntime-web/dist/"
    if os.path.isdir(serve.RUNTIME_DIRS["/node_modules/onnxruntime-web/dist/"]):
        assert _get(ort + "ort-wasm-simd-threaded.wasm") == (200, "application/wasm")
        assert _get(ort + "ort.wasm.min.mjs") == (200, "text/javascript")
    for refused in ("/serve.py", "/export_model.py", "/artifacts/", "/artifacts/tfjs/",
                    "/artifacts/../serve.py", "/artifacts/%2e%2e/serve.py",
                    "/node_modules/onnxruntime-web/package.json",
                    "/node_modules/@tensorflow/tfjs/dist/../package.json", "/nothing"):
        assert _get(server + refused)[0] == 404, refused


def test_serve_refuses_to_start_without_an_export(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        serve.main(["--artifacts", str(tmp_path), "--port", "0"])
    assert exit_info.value.code == 2
    assert "demo.json is missing: run python examples/web/export_model.py first" in \
        capsys.readouterr().err


def test_docstring_examples(tmp_path, monkeypatch):
    import doctest

    monkeypatch.chdir(tmp_path)
    for module in (export_model, serve):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


@pytest.mark.realdata
def test_export_script_trains_and_writes_the_demo(tmp_path):
    """The script as a user runs it, 1 epoch on the real Fashion-MNIST (a few seconds).

    The tutorial's MLP with Adam reached 0.8435 test accuracy after 2 epochs here; 1 epoch
    must reach 0.80.
    """
    import re
    import subprocess
    import sys

    out = tmp_path / "artifacts"
    run = subprocess.run([sys.executable, os.path.join(WEB, "export_model.py"), "--epochs", "1",
                          "--out", str(out)], capture_output=True, text=True, timeout=300,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert run.returncode == 0, run.stderr
    accuracy = float(re.search(r"^test accuracy: (\d\.\d{4})$", run.stdout, re.M).group(1))
    assert accuracy >= 0.80, run.stdout
    demo = json.loads((out / "demo.json").read_text())
    assert [s["label"] for s in demo["samples"]] == list(range(10))
    assert (out / "tfjs" / "model.json").is_file() and (out / "model.onnx").is_file()
