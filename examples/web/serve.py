"""Serves the browser demo on localhost: the page, the exported model, and the two runtimes.

    python examples/web/serve.py                 # http://127.0.0.1:8000/
    python examples/web/serve.py --port 0        # any free port (printed)

Only these URLs exist (anything else is 404, and directories are never listed):

    /, /index.html, /app.js, /style.css   the page (this folder)
    /artifacts/...                        what export_model.py wrote (--artifacts)
    /node_modules/@tensorflow/tfjs/dist/...  and  /node_modules/onnxruntime-web/dist/...
                                          the runtimes npm installed from package-lock.json

The server binds 127.0.0.1 only, so nothing outside this machine can reach it.
"""

import argparse
import http.server
import os
import posixpath
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_ARTIFACTS = os.path.join(HERE, "artifacts")
HOST = "127.0.0.1"
PAGE_FILES = ("index.html", "app.js", "style.css")
# URL prefix -> folder: only the runtimes' browser builds, not the rest of node_modules.
RUNTIME_DIRS = {
    "/node_modules/@tensorflow/tfjs/dist/":
        os.path.join(ROOT, "node_modules", "@tensorflow", "tfjs", "dist"),
    "/node_modules/onnxruntime-web/dist/":
        os.path.join(ROOT, "node_modules", "onnxruntime-web", "dist"),
}
# Browsers compile WebAssembly while it streams in only when it is served as application/wasm,
# and they refuse module scripts (.mjs) served without a JavaScript type.
MIME_TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
              ".json": "application/json", ".html": "text/html", ".css": "text/css",
              ".bin": "application/octet-stream", ".onnx": "application/octet-stream",
              ".png": "image/png"}


def _inside(folder, relative):
    """`folder/relative`, or None when `relative` climbs out of `folder`."""
    relative = posixpath.normpath("/" + relative).lstrip("/")
    path = os.path.realpath(os.path.join(folder, *relative.split("/")))
    folder = os.path.realpath(folder)
    return path if path == folder or path.startswith(folder + os.sep) else None


def make_handler(artifacts_dir, quiet=False):
    """A request handler class serving the page, `artifacts_dir` and the runtimes."""
    artifacts_dir = os.path.abspath(artifacts_dir)

    class DemoHandler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

        def translate_path(self, path):
            # None (a 404, see send_head) for every URL outside the map.
            path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
            if path in ("/", "") or path.lstrip("/") in PAGE_FILES:
                return os.path.join(HERE, path.lstrip("/") or "index.html")
            if path.startswith("/artifacts/"):
                return _inside(artifacts_dir, path[len("/artifacts/"):])
            for prefix, folder in RUNTIME_DIRS.items():
                if path.startswith(prefix):
                    return _inside(folder, path[len(prefix):])
            return None

        def send_head(self):
            if self.translate_path(self.path) is None:
                self.send_error(404, "Not Found")
                return None
            return super().send_head()

        def list_directory(self, path):
            self.send_error(404, "Not Found")
            return None

        def end_headers(self):
            # Re-exported models must not be served from the browser's cache.
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            super().end_headers()

        def log_message(self, format, *args):
            if not quiet:
                super().log_message(format, *args)

    return DemoHandler


def make_server(artifacts_dir=DEFAULT_ARTIFACTS, port=8000, quiet=False):
    """A threading HTTP server on 127.0.0.1:`port` (0: a free port); call `serve_forever()`.

    Example:
      >>> server = make_server(port=0, quiet=True)
      >>> server.server_address[0]
      '127.0.0.1'
      >>> server.server_close()
    """
    return http.server.ThreadingHTTPServer((HOST, port), make_handler(artifacts_dir, quiet))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--artifacts", default=DEFAULT_ARTIFACTS,
                        help="the folder export_model.py wrote (default: %(default)s)")
    args = parser.parse_args(argv)
    if not os.path.isfile(os.path.join(args.artifacts, "demo.json")):
        parser.error(f"{args.artifacts}/demo.json is missing: run "
                     "python examples/web/export_model.py first.")
    missing = [folder for folder in RUNTIME_DIRS.values() if not os.path.isdir(folder)]
    if missing:
        parser.error(f"{missing[0]} is missing: run `npm ci --ignore-scripts` in {ROOT}.")
    server = make_server(args.artifacts, args.port)
    print(f"Serving the numpyflow browser demo at http://{HOST}:{server.server_address[1]}/ "
          "(Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
