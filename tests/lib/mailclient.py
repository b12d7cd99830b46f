#!/usr/bin/env python3
"""mailclient.py - tiny LMTP/IMAP/POP3 clients for the Dovecot tests.

  mailclient.py lmtp PORT FROM RCPT...   message on stdin; prints one line
                                          per recipient: "RCPT CODE", where
                                          CODE is 250 or the refusal code
  mailclient.py imap PORT USER PASS MAILBOX...
                                          prints "MAILBOX COUNT" per mailbox
                                          (COUNT "-" if it does not exist)
                                          and "SUBSCRIBED name..." , or
                                          "REFUSED text" if the session failed
  mailclient.py pop3 PORT USER PASS       prints the message count, or
                                          "REFUSED text"
  mailclient.py imap-subjects PORT USER PASS MAILBOX
                                          prints the Subject: of each message
                                          in MAILBOX, one a line
  mailclient.py pop3-subjects PORT USER PASS
                                          the same over POP3 (TOP n 0)
  mailclient.py lmtp-each PORT TAG USER...
                                          one LMTP session, one transaction
                                          per USER with "Subject: m-USER-TAG";
                                          prints "USER CODE" per user
  mailclient.py imap-each PORT PASS MAILBOX USER...
                                          logs in as each USER (4 at a time)
                                          and prints "USER COUNT" (COUNT as
                                          above, or REFUSED)
"""
import concurrent.futures
import imaplib
import poplib
import smtplib
import sys


def lmtp(port, sender, rcpts):
    msg = sys.stdin.buffer.read()
    s = smtplib.LMTP("127.0.0.1", int(port), timeout=30)
    s.ehlo("test")
    code, text = s.mail(sender)
    ok = []
    for r in rcpts:
        code, text = s.rcpt(r)
        if code == 250:
            ok.append(r)
        else:
            print(r, code)
    if ok:
        # LMTP answers DATA once per accepted recipient
        s.putcmd("data")
        code, text = s.getreply()
        if code != 354:
            for r in ok:
                print(r, code)
        else:
            data = msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            data = b"\r\n".join(b"." + l if l.startswith(b".") else l for l in data.split(b"\r\n"))
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            s.send(data + b".\r\n")
            for r in ok:
                code, text = s.getreply()
                print(r, code)
    s.quit()


def lmtp_each(port, tag, users):
    s = smtplib.LMTP("127.0.0.1", int(port), timeout=30)
    s.ehlo("test")
    for u in users:
        msg = (f"From: a@example.net\r\nTo: {u}@example.test\r\n"
               f"Subject: m-{u}-{tag}\r\nMessage-ID: <m-{u}-{tag}@test>\r\n\r\nbody\r\n")
        try:
            s.sendmail("a@example.net", [f"{u}@example.test"], msg)
            print(u, 250)
        except smtplib.SMTPRecipientsRefused as e:
            print(u, next(iter(e.recipients.values()))[0])
        except smtplib.SMTPResponseException as e:
            print(u, e.smtp_code)
            s.rset()
    s.quit()


def imap_count(port, user, pw, box):
    try:
        im = imaplib.IMAP4("127.0.0.1", int(port), timeout=20)
        im.login(user, pw)
        typ, data = im.status(box, "(MESSAGES)")
        im.logout()
        return data[0].decode().rsplit(" ", 1)[1].rstrip(")") if typ == "OK" else "-"
    except (imaplib.IMAP4.error, OSError, EOFError):
        return "REFUSED"


def imap(port, user, pw, boxes):
    im = imaplib.IMAP4("127.0.0.1", int(port), timeout=20)
    try:
        im.login(user, pw)
        for b in boxes:
            typ, data = im.status(b, "(MESSAGES)")
            if typ != "OK":
                print(b, "-")
            else:
                print(b, data[0].decode().rsplit(" ", 1)[1].rstrip(")"))
        typ, data = im.lsub('""', "*")
        subs = sorted(d.decode().rsplit(" ", 1)[1].strip('"') for d in data if d)
        print("SUBSCRIBED", " ".join(subs))
        im.logout()
    except (imaplib.IMAP4.error, OSError, EOFError) as e:
        print("REFUSED", e)


def pop3(port, user, pw, subjects=False):
    try:
        p = poplib.POP3("127.0.0.1", int(port), timeout=20)
        p.user(user)
        p.pass_(pw)
        n = p.stat()[0]
        if subjects:
            for i in range(1, n + 1):
                print(subject_of(b"\n".join(p.top(i, 0)[1])))
        else:
            print(n)
        p.quit()
    except (poplib.error_proto, OSError, EOFError) as e:
        print("REFUSED", e)


def subject_of(header_bytes):
    for line in header_bytes.replace(b"\r\n", b"\n").split(b"\n"):
        if line.lower().startswith(b"subject:"):
            return line[8:].strip().decode("utf-8", "replace")
    return ""


def imap_subjects(port, user, pw, box):
    im = imaplib.IMAP4("127.0.0.1", int(port), timeout=20)
    try:
        im.login(user, pw)
        typ, n = im.select(box, readonly=True)
        if typ != "OK":
            print("REFUSED no mailbox", box)
            return
        if int(n[0]) == 0:
            im.logout()
            return
        typ, data = im.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for d in data or []:
            if isinstance(d, tuple):
                print(subject_of(d[1]))
        im.logout()
    except (imaplib.IMAP4.error, OSError, EOFError) as e:
        print("REFUSED", e)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "lmtp":
        lmtp(args[0], args[1], args[2:])
    elif cmd == "imap":
        imap(args[0], args[1], args[2], args[3:])
    elif cmd == "lmtp-each":
        lmtp_each(args[0], args[1], args[2:])
    elif cmd == "imap-each":
        # four clients at a time, as many users' sessions would be
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            counts = ex.map(lambda u: imap_count(args[0], u, args[1], args[2]), args[3:])
            for u, n in zip(args[3:], counts):
                print(u, n)
    elif cmd == "pop3":
        pop3(args[0], args[1], args[2])
    elif cmd == "imap-subjects":
        imap_subjects(args[0], args[1], args[2], args[3])
    elif cmd == "pop3-subjects":
        pop3(args[0], args[1], args[2], subjects=True)
    else:
        sys.exit("unknown command " + cmd)
