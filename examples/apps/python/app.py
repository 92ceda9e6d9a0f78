"""A small HTTP app that slipway swaps without dropping a request (stdlib only).

Under slipway it takes the listening socket the agent passes (LISTEN_FDS),
writes READY=1 to NOTIFY_FD once it serves, and on SIGTERM stops accepting,
finishes the requests in flight and exits. Run by hand, it binds PORT.
"""
import json
import os
import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIRST_FD = 3  # the sockets of run.listen are fds 3, 4, ... in that order
VERSION = os.environ.get("SLIPWAY_VERSION", "dev")


def inherited_socket(name):
    """The socket passed as run.listen's `name`, or None when not started by slipway."""
    count = int(os.environ.get("LISTEN_FDS", "0"))
    if count < 1 or os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    names = os.environ.get("LISTEN_FDNAMES", "").split(":")[:count]
    if name not in names:
        raise SystemExit(f"no inherited socket named {name!r} (LISTEN_FDNAMES={os.environ.get('LISTEN_FDNAMES')})")
    # Its flags stay as they are: the other running version accepts on it too.
    return socket.socket(fileno=FIRST_FD + names.index(name))


def notify_ready():
    """READY=1 on NOTIFY_FD: slipway then counts this version as ready."""
    fd = os.environ.pop("NOTIFY_FD", None)
    if fd is not None:
        os.write(int(fd), b"READY=1\n")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/version":
            body, kind = json.dumps({"version": VERSION, "pid": os.getpid()}).encode(), "application/json"
        elif self.path in ("/", "/healthz"):
            body, kind = f"hello from python {VERSION}\n".encode(), "text/plain"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # no line per request in the app's log


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for the requests in flight


def main():
    sock = inherited_socket("http")
    if sock is not None:
        server = Server(sock.getsockname()[:2], Handler, bind_and_activate=False)
        server.socket.close()  # the unbound socket the constructor made
        server.socket = sock
    else:
        server = Server(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever).start()
    notify_ready()
    stop.wait()
    server.shutdown()  # stop accepting: the new version takes the next connections
    server.server_close()  # close our copy of the socket, wait for the requests in flight


if __name__ == "__main__":
    main()
