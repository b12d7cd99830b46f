#!/usr/bin/python3
"""scraper.py - a Prometheus scraper, polite or hostile, for the tests.

usage:
  scraper.py get PORT [PATH]        GET PATH (default /metrics) from
                                    127.0.0.1:PORT; print the status line,
                                    then the body; exit 1 if no answer
  scraper.py value PORT SERIES      print the value of one sample, e.g.
                                    'mailwarren_policyd_decisions_total{action="reject",reason="relay"}'
                                    (0 lines: "missing")
  scraper.py raw PORT               send stdin as is; print the status line
                                    that came back, or "[closed]"
  scraper.py slowloris PORT SECS    send a request one byte a second for up
                                    to SECS seconds; print "closed after N
                                    bytes" when the server hangs up, or
                                    "still open"
  scraper.py bigline PORT           send a 1 MB request line; print the
                                    status line the server sent, or "[closed]"
  scraper.py flood PORT N SECS      open N connections at once, send nothing,
                                    hold them SECS seconds; print
                                    "connected=C refused=R answered503=A"
  scraper.py loop PORT SECS         GET /metrics every SECS seconds until
                                    killed, as Prometheus does (one process:
                                    what a scrape costs is the daemon's
                                    answer, not an interpreter's start)
  scraper.py slowreader PORT SECS   send GET /metrics with a 1-byte receive
                                    buffer and read nothing for SECS seconds;
                                    print "dropped" when the server gave up
                                    on it, or "kept"
"""
import errno
import selectors
import socket
import sys
import time


def connect(port, timeout=10):
    return socket.create_connection(("127.0.0.1", int(port)), timeout)


def read_all(s, limit=64 << 20):
    out = b""
    try:
        while len(out) < limit:
            data = s.recv(65536)
            if not data:
                break
            out += data
    except (ConnectionResetError, socket.timeout):
        pass
    return out


def get(port, path="/metrics"):
    s = connect(port)
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: scraper.py\r\n\r\n" % path).encode())
    out = read_all(s)
    s.close()
    if not out:
        return None, ""
    head, _, body = out.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body.decode("utf-8", "replace")


def cmd_get(port, path="/metrics"):
    status, body = get(port, path)
    if status is None:
        print("[no answer]")
        return 1
    try:
        print(status)
        sys.stdout.write(body)
        sys.stdout.flush()
    except BrokenPipeError:		# "| grep -q": the reader had enough
        sys.stdout = None
    return 0


def cmd_value(port, series):
    status, body = get(port)
    if status is None or not status.startswith("HTTP/1.1 200"):
        print("[no answer: %s]" % status)
        return 1
    for line in body.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            print(value)
            return 0
    print("missing")
    return 1


def cmd_raw(port):
    s = connect(port)
    s.sendall(sys.stdin.buffer.read())
    out = read_all(s)
    print(out.split(b"\r\n")[0].decode("utf-8", "replace") if out else "[closed]")
    return 0


def cmd_slowloris(port, secs):
    s = connect(port)
    req = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 4096
    sent = 0
    t_end = time.time() + float(secs)
    while time.time() < t_end and sent < len(req):
        try:
            s.send(req[sent:sent + 1])
            sent += 1
        except (BrokenPipeError, ConnectionResetError):
            print("closed after %d bytes" % sent)
            return 0
        s.settimeout(1)
        try:
            if s.recv(4096) == b"":
                print("closed after %d bytes" % sent)
                return 0
            # an answer to a request never finished: not expected
            print("answered after %d bytes" % sent)
            return 0
        except socket.timeout:
            pass
        except ConnectionResetError:
            print("closed after %d bytes" % sent)
            return 0
    print("still open")
    return 0


def cmd_bigline(port):
    s = connect(port)
    line = b"GET /" + b"x" * (1 << 20) + b" HTTP/1.1\r\n\r\n"
    try:
        s.sendall(line)
    except (BrokenPipeError, ConnectionResetError):
        pass
    out = b""
    try:
        s.settimeout(5)
        out = s.recv(4096)
    except (ConnectionResetError, socket.timeout, OSError):
        pass
    print(out.split(b"\r\n")[0].decode("utf-8", "replace") if out else "[closed]")
    return 0


def cmd_flood(port, n, secs):
    n = int(n)
    socks = []
    refused = 0
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", int(port)))
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
            s.close()
            continue
        socks.append(s)
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    answered = 0
    closed = set()
    t_end = time.time() + float(secs)
    while time.time() < t_end:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data.startswith(b"HTTP/1.1 503"):
                answered += 1
            sel.unregister(s)
            closed.add(s)
    connected = 0
    for s in socks:
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            connected += 1
        s.close()
    print("connected=%d refused=%d answered503=%d" % (connected, refused, answered))
    return 0


def cmd_loop(port, secs):
    while True:
        t = time.time()
        try:
            get(port)
        except OSError:
            pass
        time.sleep(max(0.0, float(secs) - (time.time() - t)))


def cmd_slowreader(port, secs):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    s.connect(("127.0.0.1", int(port)))
    s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
    time.sleep(float(secs))
    # the server must have given up: what it sent ends before the body does
    s.settimeout(5)
    out = read_all(s)
    head, _, body = out.partition(b"\r\n\r\n")
    want = None
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            want = int(line.split(b":")[1])
    print("kept" if want is not None and len(body) == want else "dropped")
    return 0


def main():
    cmds = {"get": cmd_get, "value": cmd_value, "raw": cmd_raw, "slowloris": cmd_slowloris,
            "bigline": cmd_bigline, "flood": cmd_flood, "slowreader": cmd_slowreader,
            "loop": cmd_loop}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    sys.exit(cmds[sys.argv[1]](*sys.argv[2:]))


if __name__ == "__main__":
    main()
