#!/usr/bin/python3
"""smtp_session.py - one SMTP session, printing every reply; XCLIENT aware.

usage: smtp_session.py --port P [--addr A] [--login L] [--auth USER:PASS]
                       --from F --to R [--to R ...] [--subject S]
                       [--body TEXT | --file FILE] [--header LINE ...]

With --addr and/or --login, XCLIENT ADDR=... LOGIN=... sets the client
address and SASL login as Postfix's XCLIENT allows (smtpd_authorized_xclient_hosts),
then the session restarts with EHLO.  --auth logs in with SASL PLAIN (AUTH
prints "AUTH <code> <text>").  --file sends FILE as the whole message
instead of a generated one; --header lines go on top of either.  Prints "MAIL <code> <text>",
"RCPT <addr> <code> <text>" for every recipient and, when at least one
recipient was accepted, "DATA <code> <text>".  Exit status 0 unless the
connection failed.
"""
import argparse
import smtplib
import sys


def reply_text(msg):
    return msg.decode("utf-8", "replace").replace("\n", " ") if isinstance(msg, bytes) else str(msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--addr")
    ap.add_argument("--login")
    ap.add_argument("--from", dest="sender", required=True)
    ap.add_argument("--to", action="append", required=True)
    ap.add_argument("--subject", default="mailwarren test")
    ap.add_argument("--body", default="test body\n")
    ap.add_argument("--file")
    ap.add_argument("--auth")
    ap.add_argument("--header", action="append", default=[])
    a = ap.parse_args()
    try:
        s = smtplib.SMTP(a.host, a.port, timeout=60)
        s.ehlo("client.test")
        if a.addr or a.login:
            args = []
            if a.addr:
                args.append("ADDR=" + (("IPV6:" + a.addr) if ":" in a.addr else a.addr))
            if a.login:
                args.append("LOGIN=" + a.login)
            code, msg = s.docmd("XCLIENT", " ".join(args))
            if code != 220:
                print("XCLIENT %d %s" % (code, reply_text(msg)))
                return 1
            s.ehlo("client.test")
        if a.auth:
            user, _, pw = a.auth.partition(":")
            try:
                code, msg = s.login(user, pw, initial_response_ok=True)
            except smtplib.SMTPAuthenticationError as e:
                code, msg = e.smtp_code, e.smtp_error
            print("AUTH %d %s" % (code, reply_text(msg)))
            if code != 235:
                s.quit()
                return 0
        code, msg = s.docmd("MAIL", "FROM:<%s>" % a.sender)
        print("MAIL %d %s" % (code, reply_text(msg)))
        accepted = 0
        for rcpt in a.to:
            code, msg = s.docmd("RCPT", "TO:<%s>" % rcpt)
            print("RCPT %s %d %s" % (rcpt, code, reply_text(msg)))
            accepted += code == 250
        if accepted:
            if a.file:
                with open(a.file, "rb") as f:
                    body = f.read()
            else:
                body = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n%s" % (
                    a.sender, a.to[0], a.subject, a.body)).encode()
            top = "".join(h + "\r\n" for h in a.header).encode()
            body = (top + body).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            try:
                code, msg = s.data(body)
            except smtplib.SMTPDataError as e:
                code, msg = e.smtp_code, e.smtp_error
            print("DATA %d %s" % (code, reply_text(msg)))
        s.quit()
    except (OSError, smtplib.SMTPException) as e:
        print("ERROR %s" % e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
