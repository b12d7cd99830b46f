#!/usr/bin/env python3
"""farmclient.py - clients for the proxy-farm tests (any host:port).

  rank SPEC USER...            the rendezvous order of each user over the
                               backends of SPEC ("NAME=HOST[:PORT[:WEIGHT]]
                               ..."), from mailshard(7) as implemented
                               independently in mailshard.py: "USER B1 B2 ..."
  lmtp HOST PORT TAG USER...   one message m-USER-TAG per user, one
                               transaction each: "USER CODE"
  imap HOST PORT PW TAG USER...  log in, count INBOX messages with subject
                               m-USER-TAG: "USER N", "USER TEMPFAIL" (a
                               temporary failure) or "USER REFUSED"
  pop3 HOST PORT PW TAG USER...  the same over POP3 (TOP of each message)
  idle HOST PORT USER PW       log in, select INBOX, IDLE; print "idling"
                               when the server said "+", then wait; on a
                               line on stdin end the IDLE and log out and
                               print "closed"; if the server ends the
                               session print "kicked"
"""
import concurrent.futures
import imaplib
import os
import poplib
import smtplib
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailshard  # noqa: E402


def rank(spec, users):
    backends = []
    for tok in spec.replace(",", " ").split():
        name, rest = tok.split("=", 1)
        parts = rest.rsplit("]", 1)[-1].split(":")
        weight = int(parts[2]) if len(parts) > 2 else 1
        backends.append((name, weight))
    for u in users:
        h = mailshard.siphash24(mailshard.normalise(u).encode())
        keys = []
        for name, w in backends:
            if w == 0:
                continue
            s = mailshard.fmix64(h ^ mailshard.siphash24(name.encode()))
            keys.append((-mailshard.math.log((float(s >> 11) + 0.5) / 2.0 ** 53) / w, name))
        print(u, " ".join(n for _, n in sorted(keys)))


def lmtp(host, port, tag, users):
    s = smtplib.LMTP(host, int(port), timeout=30)
    s.ehlo("test")
    for u in users:
        msg = (f"From: a@example.net\r\nTo: {u}@example.test\r\n"
               f"Subject: m-{u}-{tag}\r\nMessage-ID: <m-{u}-{tag}@test>\r\n\r\nbody\r\n")
        try:
            s.sendmail("a@example.net", [f"{u}@example.test"], msg)
            print(u, 250, flush=True)
        except smtplib.SMTPRecipientsRefused as e:
            print(u, next(iter(e.recipients.values()))[0], flush=True)
            s.rset()
        except smtplib.SMTPResponseException as e:
            print(u, e.smtp_code, flush=True)
            s.rset()
    s.quit()


def imap_one(host, port, pw, tag, u):
    try:
        im = imaplib.IMAP4(host, int(port), timeout=20)
        try:
            im.login(u, pw)
        except imaplib.IMAP4.error as e:
            return "TEMPFAIL" if b"UNAVAILABLE" in str(e).encode() or "UNAVAILABLE" in str(e) else "REFUSED"
        typ, _ = im.select("INBOX", readonly=True)
        if typ != "OK":
            return "-"
        typ, data = im.search(None, "SUBJECT", f'"m-{u}-{tag}"')
        im.logout()
        return str(len(data[0].split())) if typ == "OK" else "-"
    except (imaplib.IMAP4.error, OSError, EOFError):
        return "REFUSED"


def pop3_one(host, port, pw, tag, u):
    try:
        p = poplib.POP3(host, int(port), timeout=20)
        try:
            p.user(u)
            p.pass_(pw)
        except poplib.error_proto as e:
            return "TEMPFAIL" if b"TEMP" in e.args[0] else "REFUSED"
        n = 0
        for i in range(1, p.stat()[0] + 1):
            for line in p.top(i, 0)[1]:
                if line == f"Subject: m-{u}-{tag}".encode():
                    n += 1
        p.quit()
        return str(n)
    except (poplib.error_proto, OSError, EOFError):
        return "REFUSED"


def each(fn, args, users):
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        for u, r in zip(users, ex.map(lambda u: fn(*args, u), users)):
            print(u, r, flush=True)


def idle(host, port, user, pw):
    im = imaplib.IMAP4(host, int(port), timeout=60)
    im.login(user, pw)
    im.select("INBOX")
    tag = im._new_tag()
    im.send(tag + b" IDLE\r\n")
    line = im.readline()
    if not line.startswith(b"+"):
        print("noidle", line)
        return
    print("idling", flush=True)
    im.sock.settimeout(None)
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    sel.register(im.sock, selectors.EVENT_READ, "sock")
    while True:
        for key, _ in sel.select():
            if key.data == "stdin":
                sys.stdin.readline()
                im.send(b"DONE\r\n")
                im.logout()
                print("closed", flush=True)
                return
            data = im.sock.recv(4096)
            if not data or b"BYE" in data:
                print("kicked", flush=True)
                return


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "rank":
        rank(a[0], a[1:])
    elif cmd == "lmtp":
        lmtp(a[0], a[1], a[2], a[3:])
    elif cmd == "imap":
        each(imap_one, a[:4], a[4:])
    elif cmd == "pop3":
        each(pop3_one, a[:4], a[4:])
    elif cmd == "idle":
        idle(*a[:4])
    else:
        sys.exit("unknown command " + cmd)
