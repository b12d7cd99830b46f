#!/usr/bin/python3
"""fake_userdb.py - a misbehaving Dovecot auth-userdb server, for testing
how mailwarren-policyd copes with malformed or hostile replies (the real
Dovecot is used for everything else).

usage: fake_userdb.py SOCKET_PATH

Speaks the auth master protocol (VERSION, SPID, then USER/NOTFOUND/FAIL per
USER request); what it answers depends on the local part asked about:
  known*      USER (exists)          unknown*  NOTFOUND
  fail*       FAIL                   junk*     junk lines (and NOTFOUND for the id + 2^32) first, then USER
  ooo-a*      held until an ooo-b* request arrives; both answered, b first
  long*       a 300 KB line without a newline (the client must give up)
  close*      the connection is closed without an answer
  mute*       junk lines and answers with wrong ids, never the answer
"""
import os
import socket
import sys
import threading


def serve(conn):
    try:
        answer(conn)
    except OSError:
        pass  # the client gave up (an endless line, a timeout)


def answer(conn):
    conn.sendall(b"VERSION\t1\t1\nSPID\t4242\n")
    held = None
    buf = b""
    while True:
        try:
            data = conn.recv(65536)
        except OSError:
            return
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            f = line.split(b"\t")
            if f[0] != b"USER" or len(f) < 3:
                continue
            rid, user = f[1], f[2]
            if user.startswith(b"known"):
                conn.sendall(b"USER\t" + rid + b"\t" + user + b"\tuid=1\n")
            elif user.startswith(b"unknown"):
                conn.sendall(b"NOTFOUND\t" + rid + b"\n")
            elif user.startswith(b"fail"):
                conn.sendall(b"FAIL\t" + rid + b"\treason=db\x01tdown\n")
            elif user.startswith(b"junk"):
                # the id + 2^32 must not be taken for the id (32-bit cut)
                cut = str(int(rid) + 2 ** 32).encode()
                conn.sendall(b"\x00\xff no tab here\nUSER\nNOTFOUND\t999999\nUSER\tx\n"
                             b"NOTFOUND\t" + cut + b"\n"
                             b"USER\t" + rid + b"\t" + user + b"\n")
            elif user.startswith(b"ooo-a"):
                held = rid
            elif user.startswith(b"ooo-b"):
                conn.sendall(b"NOTFOUND\t" + rid + b"\n")
                if held is not None:
                    conn.sendall(b"USER\t" + held + b"\tooo-a\n")
                    held = None
            elif user.startswith(b"long"):
                conn.sendall(b"USER\t" + rid + b"\t" + b"x" * 300000)
                return
            elif user.startswith(b"mute"):
                conn.sendall(b"\x00garbage\nUSER\t0\tmute\nNOTFOUND\t" + rid + b"0\nUSER\nFAIL\n")
            elif user.startswith(b"close"):
                conn.close()
                return


def main():
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    os.chmod(path, 0o666)
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
