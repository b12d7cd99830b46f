#!/usr/bin/env python3
"""Minimal SPAMC/1.5 client for tests (python3 stdlib only).

usage: spamc.py [--host H] --port P [--user U] [--timeout S] METHOD < message

METHOD is PING, CHECK, SYMBOLS, REPORT, REPORT_IFSPAM, HEADERS or PROCESS.
PING reads no message and prints "PONG". The other methods send standard
input as the message and print the "Spam: ..." line of the reply, then the
reply body if there is one (SYMBOLS: the rule names; REPORT: the report).

Exit status: 0 = PONG or ham, 1 = spam, 2 = any error (connection, timeout,
a non-zero spamd status, a malformed reply). Errors go to standard error.

Protocol (spamd/PROTOCOL in SpamAssassin): the request is
"METHOD SPAMC/1.5" CRLF, headers (Content-length for a body, User) each
CRLF-terminated, an empty line, the body; the client then half-closes. The
reply is "SPAMD/<ver> <code> <text>" CRLF, headers, an empty line, a body.
"""
import argparse
import re
import socket
import sys

METHODS = ("PING", "CHECK", "SYMBOLS", "REPORT", "REPORT_IFSPAM", "HEADERS", "PROCESS")
STATUS_RE = re.compile(rb"^SPAMD/(\d+\.\d+) (\d+) ?(.*)$")
# "Spam: True ; 1000.0 / 5.0" (REPORT_IFSPAM says Yes/No)
SPAM_RE = re.compile(r"^(True|False|Yes|No) ; (-?[0-9.]+) / (-?[0-9.]+)$", re.I)
# characters spamd accepts in a User: header
USER_RE = re.compile(r"^[-A-Za-z0-9_.@+=,]+$")


class SpamcError(Exception):
    pass


def build_request(method, body, user):
    lines = [f"{method} SPAMC/1.5"]
    if method != "PING":
        lines.append(f"Content-length: {len(body)}")
    if user:
        lines.append(f"User: {user}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def exchange(host, port, request, timeout):
    """Send the request, half-close, read the reply until EOF."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                d = s.recv(65536)
                if not d:
                    break
                chunks.append(d)
    except OSError as e:  # refused, reset, timeout
        raise SpamcError(f"{host}:{port}: {e}") from e
    return b"".join(chunks)


def parse_reply(raw):
    """Return (code, text, headers dict with lower-case keys, body bytes)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep and head.endswith(b"\r\n"):
        head = head[:-2]  # a status line alone (PONG, errors)
    lines = head.split(b"\r\n")
    m = STATUS_RE.match(lines[0]) if lines else None
    if not m:
        raise SpamcError(f"bad status line: {lines[0][:200]!r}")
    code, text = int(m.group(2)), m.group(3).decode("latin-1")
    if code != 0:
        # on errors spamd sends only the status line
        raise SpamcError(f"spamd error {code}: {text}")
    if not sep and len(lines) > 1:
        raise SpamcError("reply ends inside its headers")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise SpamcError(f"bad reply header: {line[:200]!r}")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        try:
            want = int(headers["content-length"])
        except ValueError:
            raise SpamcError(f"bad Content-length: {headers['content-length']!r}")
        if want != len(body):
            raise SpamcError(f"Content-length {want} but {len(body)} body bytes")
    return code, text, headers, body


def main(argv):
    ap = argparse.ArgumentParser(description="minimal SPAMC/1.5 client")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", help="per-user preferences (User: header)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("method", type=str.upper, choices=METHODS)
    a = ap.parse_args(argv)
    if a.user is not None and not USER_RE.match(a.user):
        ap.error("--user has characters spamd would refuse")

    body = b"" if a.method == "PING" else sys.stdin.buffer.read()
    try:
        raw = exchange(a.host, a.port, build_request(a.method, body, a.user), a.timeout)
        code, text, headers, rbody = parse_reply(raw)
        if a.method == "PING":
            if text != "PONG":
                raise SpamcError(f"PING answered {text!r}")
            print("PONG")
            return 0
        spam = headers.get("spam")
        m = SPAM_RE.match(spam or "")
        if not m:
            raise SpamcError(f"no valid Spam: header in reply ({spam!r})")
    except SpamcError as e:
        print(f"spamc.py: {e}", file=sys.stderr)
        return 2
    print(f"Spam: {spam}")
    if rbody:
        sys.stdout.flush()
        out = sys.stdout.buffer
        out.write(rbody)
        if not rbody.endswith(b"\n"):
            out.write(b"\n")  # SYMBOLS has no trailing newline
        out.flush()
    return 1 if m.group(1).lower() in ("true", "yes") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
