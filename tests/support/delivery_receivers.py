#!/usr/bin/python3
"""Loopback receivers for the delivery tests: an SMTP server (aiosmtpd), an HTTP webhook
receiver that fails a share of requests and is slow at times ("http"; "brisk" is the same on
asyncio, failing and waiting less, for the crash trials' thousands of actions), and a "switch"
webhook receiver whose behaviour the test sets. All drop repeats by their Idempotency-Key and
write one line per request to a log file, with each space of a key written as %20:

    new <key> <detail>      the first time a key is processed; for the webhook receiver the
                            detail is path=<path> api_key=<X-Api-Key header, "-" if absent>
    dup <key>               a repeat of a key already processed (not processed again)
    fail <key> <status>     a request refused on purpose
    held <key>              (switch) a request held before it is processed

The switch receiver reads its mode at each request from the file next to LOG_FILE named
KIND.mode: "refuse" (also when there is no such file) answers 400, which the sender takes as
permanent; "accept" processes the request; "hold" logs it, waits 3 s, then processes it.

Usage: delivery_receivers.py smtp|http|brisk|switch PORT_FILE LOG_FILE
The port chosen by the kernel is written to PORT_FILE once the server listens on 127.0.0.1.
"""
import asyncio
import email
import os
import sys
import threading
import time
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN = set()
LOG = None


def log(line):
    with LOCK:
        LOG.write(line + "\n")
        LOG.flush()


def logged(key):
    return key.replace(" ", "%20")


def record(key, detail):
    """Logs a processed request: "new" the first time a key comes, "dup" after that."""
    with LOCK:
        first = key not in SEEN
        SEEN.add(key)
    if first:
        log("new %s %s" % (logged(key), detail))
    else:
        log("dup " + logged(key))


REQUESTS = 0
TRIES = {}


def count_request(key):
    """Counts a webhook request; gives its number and whether it is its key's first try."""
    global REQUESTS
    with LOCK:
        REQUESTS += 1
        TRIES[key] = TRIES.get(key, 0) + 1
        return REQUESTS, TRIES[key] == 1


def announce(port_file, port):
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, port_file)


class MailHandler:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        key = message.get("Idempotency-Key", "")
        record(key, "to=%s subject=%s" % (",".join(envelope.rcpt_tos),
                                          str(message.get("Subject", "")).replace(" ", "_")))
        return "250 OK"


def run_smtp(port_file):
    from aiosmtpd.smtp import SMTP

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(MailHandler()), "127.0.0.1", 0)
        announce(port_file, server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


class Receiver(BaseHTTPRequestHandler):
    """What the threaded webhook receivers share: an empty answer, and no access log."""

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Hook(Receiver):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = self.headers.get("Idempotency-Key", "")
        n, first_try = count_request(key)
        if b'"customer":"REJECT"' in body:
            log("fail %s 422" % logged(key))
            return self.answer(422)
        # Every third request fails, but never a key's retry: sound customers always get through
        # within the sender's attempts, however the requests interleave.
        if b'"customer":"DOWN"' in body or (first_try and n % 3 == 0):
            log("fail %s 503" % logged(key))
            return self.answer(503)
        if n % 4 == 0:
            time.sleep(0.3)  # slow at times: the sender must not block on it
        record(key, "path=%s api_key=%s" % (self.path, self.headers.get("X-Api-Key", "-")))
        self.answer(200)


def run_brisk(port_file):
    """The webhook receiver's rules on asyncio, without a thread per request: every tenth
    request fails (503) unless it is a key's retry, and every twentieth waits 20 ms."""

    async def handle(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path = head.split(b" ", 2)[1].decode()
        await reader.readexactly(int(headers.get("content-length", "0")))
        key = headers.get("idempotency-key", "")
        n, first_try = count_request(key)
        status = 200
        if first_try and n % 10 == 0:
            log("fail %s 503" % logged(key))
            status = 503
        else:
            if n % 20 == 0:
                await asyncio.sleep(0.02)
            record(key, "path=%s" % path)
        writer.write(b"HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                     % status)
        try:
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
        announce(port_file, server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


class Switch(Receiver):
    mode_file = None

    def mode(self):
        try:
            with open(Switch.mode_file) as f:
                return f.read().strip()
        except FileNotFoundError:
            return "refuse"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = self.headers.get("Idempotency-Key", "")
        mode = self.mode()
        if mode == "refuse":
            log("fail %s 400" % logged(key))
            return self.answer(400)
        if mode == "hold":
            log("held " + logged(key))
            time.sleep(3)
        attempt = body.split(b'"attempt":', 1)[1].split(b",", 1)[0].decode()
        record(key, "attempt=%s" % attempt)
        try:
            self.answer(200)
        except OSError:
            pass  # the sender went away while the request was held


def run_http(port_file, handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    announce(port_file, server.server_address[1])
    server.serve_forever()


if __name__ == "__main__":
    kind, port_file, log_file = sys.argv[1:4]
    LOG = open(log_file, "a")
    Switch.mode_file = os.path.join(os.path.dirname(log_file), kind + ".mode")
    if kind == "smtp":
        run_smtp(port_file)
    elif kind == "brisk":
        run_brisk(port_file)
    else:
        run_http(port_file, Switch if kind == "switch" else Hook)
