#!/usr/bin/python3
"""flood.py - a connection storm against mailwarren-policyd or -milter.

usage: flood.py [options] ADDR      (ADDR: HOST:PORT or a UNIX socket path)

  --proto policy|milter   what a request is: one Postfix policy request
                          (answer: "action=...\\n\\n"), or the milter's option
                          negotiation (answer: one SMFIC_OPTNEG reply packet)
  --established N         connections opened, asked once and held before the
                          storm; asked again --probes times while it lasts
  --flood N               connections opened at once (non-blocking), held
  --send full|half|none   what each storm connection sends: its request, the
                          first half of it (slowloris), or nothing
  --wait S                bound on each phase (connecting, answers, the check
                          after the storm); never a measurement
  --probes N              rounds of requests on the established connections
                          while the storm connections are held
  --hold S                keep the storm open S seconds before the probes;
                          with --reconnect, every storm connection the
                          daemon closes is opened again at once (a storm that
                          does not give up)
  --complete              after the probes, send the rest of each half
                          request still open and count the answers
  --pid PID               report the CPU seconds PID used during --hold
  --ready FILE            create FILE once the storm is connected (for a
                          benchmark that runs its load beside the storm)

Prints key=value lines (counts), e.g. flood_connected=, flood_answered=,
flood_deferred= (a policy answer containing 451 4.3.5), flood_eof= (closed
by the daemon without an answer), flood_pending= (never connected within
--wait), probes_ok=, probes_failed=, new_during= (what a new connection got
while saturated: answered/deferred/eof/timeout), after_ok= (a new request
answered once the storm was closed), completed_answered=, cpu_seconds=.
"""
import argparse
import errno
import os
import resource
import selectors
import socket
import struct
import sys
import time

POLICY_REQ = (
    "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
    "client_address=198.51.100.7\nclient_name=unknown\nclient_port=50984\n"
    "reverse_client_name=unknown\nserver_address=127.0.0.1\nserver_port=25\n"
    "helo_name=client.test\nsender=a@sender.example\nrecipient=u@hosted.example\n"
    "recipient_count=0\nqueue_id=\ninstance=3438.6b038864.ae09c.0\nsize=0\n"
    "etrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\n"
    "ccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
    "ccert_pubkey_fingerprint=\nencryption_protocol=\nencryption_cipher=\n"
    "encryption_keysize=0\npolicy_context=\n\n").encode()


def milter_packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


MILTER_OPTNEG = milter_packet(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))


def milter_probe(i):
    """The i-th command of a session after negotiation: connect, helo, mail, rcpt..."""
    if i == 0:
        return milter_packet(b"C", b"client.test\0" + b"4" + struct.pack(">H", 2525)
                             + b"192.0.2.10\0")
    if i == 1:
        return milter_packet(b"H", b"client.test\0")
    if i == 2:
        return milter_packet(b"M", b"<a@sender.example>\0")
    return milter_packet(b"R", b"<u%d@hosted.example>\0" % i)


class Proto:
    def __init__(self, name):
        self.name = name
        self.request = POLICY_REQ if name == "policy" else MILTER_OPTNEG

    def complete(self, buf):
        """Length of the first whole answer in buf, or 0."""
        if self.name == "policy":
            i = buf.find(b"\n\n")
            return i + 2 if i >= 0 else 0
        if len(buf) < 4:
            return 0
        n = struct.unpack(">I", buf[:4])[0]
        return 4 + n if len(buf) >= 4 + n else 0

    def probe(self, i):
        return self.request if self.name == "policy" else milter_probe(i)


def connect_addr(addr):
    if "/" in addr:
        return socket.AF_UNIX, addr
    host, port = addr.rsplit(":", 1)
    return socket.AF_INET, (host, int(port))


def ask(addr, proto, payload, wait, sock=None):
    """Send payload, read one answer: (outcome, sock); outcome answered/deferred/eof/timeout."""
    fam, a = connect_addr(addr)
    try:
        if sock is None:
            sock = socket.socket(fam, socket.SOCK_STREAM)
            sock.settimeout(wait)
            sock.connect(a)
        sock.settimeout(wait)
        sock.sendall(payload)
        buf = b""
        while not proto.complete(buf):
            d = sock.recv(65536)
            if not d:
                return "eof", sock
            buf += d
        if b"451 4.3.5" in buf:
            return "deferred", sock
        return "answered", sock
    except socket.timeout:
        return "timeout", sock
    except OSError:
        return "eof", sock


class Storm:
    """N non-blocking connections and what became of them."""

    def __init__(self, addr, proto, n, send):
        self.addr, self.proto, self.send = addr, proto, send
        self.sel = selectors.DefaultSelector()
        self.state = {}     # sock -> [state, inbuf]
        self.counts = dict(connected=0, answered=0, deferred=0, eof=0, error=0)
        self.reconnect = False
        for _ in range(n):
            self.open_one()

    def payload(self):
        if self.send == "full":
            return self.proto.request
        if self.send == "half":
            return self.proto.request[:len(self.proto.request) // 2]
        return b""

    def open_one(self):
        fam, a = connect_addr(self.addr)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(a)
        if rc not in (0, errno.EINPROGRESS, errno.EAGAIN):
            s.close()
            self.counts["error"] += 1
            return
        self.state[s] = ["connecting", b""]
        self.sel.register(s, selectors.EVENT_WRITE)

    def finish(self, s, outcome):
        self.counts[outcome] += 1
        self.sel.unregister(s)
        del self.state[s]
        s.close()
        if self.reconnect:
            self.open_one()

    def step(self, timeout):
        for key, ev in self.sel.select(timeout):
            s = key.fileobj
            st = self.state.get(s)
            if st is None:
                continue
            if st[0] == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self.finish(s, "error")
                    continue
                self.counts["connected"] += 1
                p = self.payload()
                try:
                    if p:
                        s.send(p)
                except OSError:
                    self.finish(s, "eof")
                    continue
                st[0] = "open"
                self.sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                self.finish(s, "eof")
                continue
            st[1] += d
            if self.proto.complete(st[1]):
                if b"451 4.3.5" in st[1]:
                    self.finish(s, "deferred")
                else:
                    self.counts["answered"] += 1
                    st[0] = "answered"
                    st[1] = b""

    def pending(self):
        return sum(1 for st in self.state.values() if st[0] == "connecting")

    def unresolved(self):
        """Connections still waiting for something the daemon owes them."""
        if self.send == "full":
            return sum(1 for st in self.state.values() if st[0] in ("connecting", "open"))
        return self.pending()

    def run(self, wait, quiet=0.5):
        """Step until nothing is unresolved (or it stays so for quiet s with half/none), or wait s."""
        end = time.monotonic() + wait
        while time.monotonic() < end and self.unresolved() > 0:
            self.step(0.2)

    def close(self):
        for s in list(self.state):
            self.sel.unregister(s)
            s.close()
        self.state.clear()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--proto", choices=("policy", "milter"), default="policy")
    ap.add_argument("--established", type=int, default=4)
    ap.add_argument("--flood", type=int, default=10000)
    ap.add_argument("--send", choices=("full", "half", "none"), default="full")
    ap.add_argument("--wait", type=float, default=60)
    ap.add_argument("--probes", type=int, default=3)
    ap.add_argument("--hold", type=float, default=0)
    ap.add_argument("--reconnect", action="store_true")
    ap.add_argument("--complete", action="store_true")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--ready", help="touch this file once the storm is connected")
    o = ap.parse_args()
    need = o.flood + o.established + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    proto = Proto(o.proto)
    out = {}

    est = []
    ok = 0
    for _ in range(o.established):
        r, s = ask(o.addr, proto, proto.request, o.wait)
        ok += r == "answered"
        est.append(s)
    out["established_ok"] = ok

    storm = Storm(o.addr, proto, o.flood, o.send)
    storm.run(o.wait)
    for k, v in storm.counts.items():
        out["flood_" + k] = v
    out["flood_pending"] = storm.pending()
    out["flood_open"] = len(storm.state)
    if o.ready:
        open(o.ready, "w").close()

    if o.hold > 0:
        storm.reconnect = o.reconnect
        while o.reconnect and len(storm.state) < o.flood:
            storm.open_one()             # the storm at full strength again
        c0 = cpu_seconds(o.pid) if o.pid else 0
        end = time.monotonic() + o.hold
        while time.monotonic() < end:
            storm.step(0.2)
        if o.pid:
            out["cpu_seconds"] = "%.2f" % (cpu_seconds(o.pid) - c0)
            out["hold_seconds"] = o.hold
        storm.reconnect = False
        out["hold_refused"] = storm.counts["eof"] + storm.counts["deferred"] - out["flood_eof"] - out["flood_deferred"]

    good = bad = 0
    for i in range(o.probes):
        for j, s in enumerate(est):
            r, _ = ask(o.addr, proto, proto.probe(i), o.wait, s)
            if r == "answered":
                good += 1
            else:
                bad += 1
    out["probes_ok"] = good
    out["probes_failed"] = bad
    r, s = ask(o.addr, proto, proto.request, min(o.wait, 10))
    out["new_during"] = r
    if s:
        s.close()

    if o.complete:
        n = 0
        half = len(proto.request) // 2
        for s, st in list(storm.state.items()):
            if st[0] != "open":
                continue
            try:
                s.setblocking(True)
                r, _ = ask(o.addr, proto, proto.request[half:], o.wait, s)
            except OSError:
                r = "eof"
            n += r == "answered"
        out["completed_answered"] = n
    out["flood_open_at_end"] = len(storm.state)
    storm.close()

    end = time.monotonic() + o.wait
    r = "none"
    while time.monotonic() < end:
        r, s = ask(o.addr, proto, proto.request, 5)
        if s:
            s.close()
        if r == "answered":
            break
        time.sleep(0.2)
    out["after_ok"] = int(r == "answered")
    for s in est:
        if s:
            s.close()
    for k, v in out.items():
        print("%s=%s" % (k, v))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
