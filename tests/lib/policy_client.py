#!/usr/bin/python3
"""policy_client.py - talk Postfix's policy delegation protocol to a server.

usage:
  policy_client.py SOCKET FILE.in      send each request of FILE.in over one
                                       connection; print its comments and the
                                       action ("=> action")
  policy_client.py --raw SOCKET        send stdin as is; print what comes back
                                       until the server closes or 2 s pass,
                                       then "[closed]" or "[open]"
  policy_client.py --ask SOCKET CLIENT RCPT [STATE]
                                       one minimal request on a fresh
                                       connection; print "action=... SECONDS"
  policy_client.py --stalled SOCKET NAME=VALUE...
                                       send a request with these attributes
                                       on one connection, then a stranger's
                                       relay attempt on another; print
                                       "other: ACTION" (its answer),
                                       "first still waiting: True|False" and
                                       "first: ACTION" (the order of answers
                                       while a back end the first needs is
                                       stalled)
  policy_client.py --req SOCKET NAME=VALUE...
                                       one full Postfix 3.7 RCPT request with
                                       these attributes changed, on a fresh
                                       connection; print "action=... SECONDS"

As a module (tests' inline scripts): ask(sock, rcpt, client=..., state=...)
sends one minimal request on a connected socket and returns the reply, or
"[closed]".

SOCKET is unix:/path or inet:PORT@HOST (mailwarren's syntax).

FILE.in holds requests separated by blank lines.  Lines starting with "#"
are prose, copied to the output; "name=value" lines override the attributes
of a Postfix 3.7 RCPT request (all 29 are sent, as Postfix does).
"""
import socket
import sys
import time

DEFAULTS = [
    ("request", "smtpd_access_policy"), ("protocol_state", "RCPT"),
    ("protocol_name", "ESMTP"), ("client_address", "198.51.100.7"),
    ("client_name", "unknown"), ("client_port", "50984"),
    ("reverse_client_name", "unknown"), ("server_address", "127.0.0.1"),
    ("server_port", "25"), ("helo_name", "client.test"),
    ("sender", "a@sender.example"), ("recipient", "u@hosted.example"),
    ("recipient_count", "0"), ("queue_id", ""),
    ("instance", "3438.6b038864.ae09c.0"), ("size", "0"), ("etrn_domain", ""),
    ("stress", ""), ("sasl_method", ""), ("sasl_username", ""),
    ("sasl_sender", ""), ("ccert_subject", ""), ("ccert_issuer", ""),
    ("ccert_fingerprint", ""), ("ccert_pubkey_fingerprint", ""),
    ("encryption_protocol", ""), ("encryption_cipher", ""),
    ("encryption_keysize", "0"), ("policy_context", ""),
]


def connect(spec):
    if spec.startswith("unix:") or spec.startswith("local:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(spec.split(":", 1)[1])
    elif spec.startswith("inet:"):
        port, host = spec[5:].split("@", 1)
        s = socket.create_connection((host, int(port)))
    else:
        sys.exit("bad socket spec: " + spec)
    s.settimeout(10)
    return s


def blocks(text):
    block = []
    for line in text.splitlines():
        if line.strip() == "":
            if block:
                yield block
            block = []
        else:
            block.append(line)
    if block:
        yield block


def read_reply(s, buf):
    while b"\n\n" not in buf:
        data = s.recv(65536)
        if not data:
            raise EOFError("server closed the connection")
        buf += data
    reply, rest = buf.split(b"\n\n", 1)
    return reply.decode("utf-8", "replace"), rest


def run_file(spec, path):
    s = connect(spec)
    buf = b""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for block in blocks(text):
        attrs = dict(DEFAULTS)
        order = [k for k, _ in DEFAULTS]
        prose = []
        for line in block:
            if line.startswith("#"):
                prose.append(line)
                continue
            name, value = line.split("=", 1)
            if name not in attrs:
                order.append(name)
            attrs[name] = value
        if not any(not line.startswith("#") for line in block):
            print("\n".join(prose))
            print()
            continue
        req = "".join("%s=%s\n" % (k, attrs[k]) for k in order) + "\n"
        s.sendall(req.encode("utf-8", "surrogateescape"))
        try:
            reply, buf = read_reply(s, buf)
        except (EOFError, socket.timeout) as e:
            reply = "[%s]" % e
        for line in prose:
            print(line)
        print("=> " + reply)
        print()
    s.close()


def ask(s, rcpt, client="198.51.100.7", state="RCPT"):
    s.sendall(("request=smtpd_access_policy\nprotocol_state=%s\nclient_address=%s\n"
               "sender=x@y.example\nrecipient=%s\nrecipient_count=0\n\n"
               % (state, client, rcpt)).encode("utf-8", "surrogateescape"))
    try:
        reply, _ = read_reply(s, b"")
    except EOFError:
        return "[closed]"
    return reply.strip()


def run_ask(spec, client, rcpt, state="RCPT"):
    s = connect(spec)
    t = time.time()
    reply = ask(s, rcpt, client, state)
    print("%s %.3f" % (reply, time.time() - t))


def run_req(spec, pairs):
    attrs = dict(DEFAULTS)
    order = [k for k, _ in DEFAULTS]
    for pair in pairs:
        name, value = pair.split("=", 1)
        if name not in attrs:
            order.append(name)
        attrs[name] = value
    s = connect(spec)
    t = time.time()
    s.sendall(("".join("%s=%s\n" % (k, attrs[k]) for k in order) + "\n")
              .encode("utf-8", "surrogateescape"))
    try:
        reply, _ = read_reply(s, b"")
    except (EOFError, socket.timeout) as e:
        reply = "[%s]" % e
    print("%s %.3f" % (reply.strip(), time.time() - t))


def run_stalled(spec, pairs):
    import select
    a = connect(spec)
    a.settimeout(30)
    b = connect(spec)
    b.settimeout(30)
    a.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
               + "".join(p + "\n" for p in pairs) + "\n").encode("utf-8", "surrogateescape"))
    print("other:", ask(b, "u@foreign.example"))
    print("first still waiting:", select.select([a], [], [], 0)[0] == [])
    print("first:", read_reply(a, b"")[0].strip())


def run_raw(spec):
    s = connect(spec)
    s.settimeout(2)
    s.sendall(sys.stdin.buffer.read())
    out = b""
    state = "[open]"
    try:
        while True:
            data = s.recv(65536)
            if not data:
                state = "[closed]"
                break
            out += data
    except socket.timeout:
        pass
    except ConnectionResetError:
        state = "[closed]"
    sys.stdout.write(out.decode("utf-8", "replace"))
    print(state)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--raw":
        run_raw(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "--stalled":
        run_stalled(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "--req":
        run_req(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "--ask":
        run_ask(*sys.argv[2:])
    elif len(sys.argv) == 3:
        run_file(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
