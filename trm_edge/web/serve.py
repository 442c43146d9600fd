"""Serve a built site on localhost, with the headers that let ONNX Runtime Web use threads (cross-origin
isolation) and the MIME types browsers insist on for modules and WebAssembly."""
from __future__ import annotations

import functools
import sys
import threading
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".js": "text/javascript", ".wasm": "application/wasm", ".onnx": "application/octet-stream"}

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_head(self):
        # a NUL in the path makes the file-system calls raise (a traceback per request): answer 400 instead
        if "\0" in urllib.parse.unquote(self.path):
            sys.stderr.write(f"refused {ascii(self.path)}: a NUL byte in the path (400)\n")
            self.send_error(400, "bad path")
            return None
        return super().send_head()

    def log_message(self, format: str, *args) -> None:   # noqa: A002 - the base class's name
        pass   # one line per file would bury the URL the user needs


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # a browser that leaves mid-download (a closed tab, a cancelled precache) is not an error to print
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def start(site: Path, port: int = 0) -> ThreadingHTTPServer:
    """A server for `site` on 127.0.0.1 (port 0: any free one), running in a daemon thread."""
    server = _Server(("127.0.0.1", port), functools.partial(_Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
