"""
A bare UPnP device for the hostile-packet tests in tests/netns/: an HTTP
server (standard library only) serving the files of one folder — a device
description and its SCPDs — and nothing else. It neither announces itself
nor answers searches, so only a NOTIFY the test forges can make the control
point find it; it refuses SUBSCRIBE (501), so the control point polls it.

Prints "READY <port>"; stops on SIGTERM.

    static_device.py --address 10.251.1.2 --folder DIR
"""

import argparse
import functools
import http.server
import signal
import socket
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        sys.stderr.write("static_device: " + (format % args) + "\n")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--folder", required=True)
    options = parser.parse_args()
    Server.address_family = socket.AF_INET6 if ":" in options.address else socket.AF_INET
    server = Server((options.address, 0), functools.partial(Handler, directory=options.folder))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("READY", server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
