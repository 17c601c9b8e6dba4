"""A local web site for the fetch tests: a threading HTTP server on 127.0.0.1:0 with programmable routes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, dict[str, str], bytes]


class Site:
    def __init__(self):
        self.routes: dict[str, Callable[[dict], Reply] | Reply] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's name
                path = self.path
                headers = {k.lower(): v for k, v in self.headers.items()}
                site.hits[path] += 1
                site.requests.append((path, headers))
                route = site.routes.get(path)
                if route is None:
                    status, hdrs, body = 404, {"Content-Type": "text/plain"}, b"not found"
                else:
                    status, hdrs, body = route(headers) if callable(route) else route
                self.send_response(status)
                for k, v in hdrs.items():
                    if k.lower() != "x-slow":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                slow = float(hdrs.get("X-Slow", 0))
                if slow:  # trickle the body: a slow site
                    for i in range(0, len(body), 8):
                        self.wfile.write(body[i : i + 8])
                        self.wfile.flush()
                        time.sleep(slow)
                else:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def start(self) -> Site:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def html(body: str, charset: str = "utf-8", declare: bool = True, **headers: str) -> Reply:
    meta = f'<meta charset="{charset}">' if declare else ""
    page = f"<html><head>{meta}<title>t</title></head><body>{body}</body></html>"
    return 200, {"Content-Type": f"text/html; charset={charset}", **headers}, page.encode(charset)
