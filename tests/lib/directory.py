#!/usr/bin/env python3
"""directory.py - the users of the directory tests, and the checks that run
against each directory (passwd-file, LDAP, SQL) through Dovecot.

  directory.py gen N SRV OUTDIR
      write N users (deterministic) as OUTDIR/facts.tsv (what every
      directory must answer), users.passwd (passwd-file), users.ldif (for
      slapadd, below ou=people,dc=example,dc=com), users.sql (psql: the
      mailwarren_users rows and some userpref rows, as a webmail writes
      them: for those users part of the spam fields lives in userpref)
  directory.py userdb SOCKET FACTS VOLS SAMPLE
      look up every user of SAMPLE (a file of names) over Dovecot's
      auth-userdb SOCKET (the protocol mailwarren-policyd speaks); compare
      the fields with FACTS and home/mail with mailshard(7) placement
      (tests/lib/mailshard.py) of VOLS; print "ok N" or the mismatches
  directory.py lmtp PORT FACTS SAMPLE TAG
      to every user of SAMPLE, over one LMTP session: score 7 from a
      stranger, score 2 from a stranger, and from the user's allowed
      (score 14: above every user's threshold, below spam_prefs'
      allow bound, spam_prefs_allow_max_score 15) or denied (score -5)
      sender when it has one; print "ok N"
      (recipients accepted) or the refused ones; then "directory.py filed"
      checks where they went
  directory.py filed SRV FACTS SAMPLE TAG
      find each message of "lmtp" by its Subject marker under SRV and
      check its maildir (the user's placement) and folder (INBOX or
      .Junk, from the user's threshold, action, allow and deny)
  directory.py policy SOCKET FACTS SAMPLE
      per user of SAMPLE one recipient-validation request to
      mailwarren-policyd (unix SOCKET): DUNNO for each, and 550 for a
      made-up name next to each; print "ok N" or the mismatches
  directory.py login PORT FACTS SAMPLE [auth-client SOCKET]
      IMAP LOGIN (over PORT) for every third user of SAMPLE with its
      password, and with a wrong one for a few; with an auth-client SOCKET,
      SASL PLAIN for every user, a wrong password for a few, over Dovecot's auth-client protocol (what Postfix's
      smtpd speaks for SASL); print "ok N" or the mismatches
  directory.py login1 PORT USER PASS
      one IMAP LOGIN: print "OK", or the server's NO/BYE text
  directory.py relay SOCKET FACTS SAMPLE
      per user of SAMPLE, as its SASL login, relay requests outward to
      mailwarren-policyd with ownership and suspension from the userdb:
      its own address and any address of its @domain OK, another address
      553, everything 550 when suspended; unknown logins 550
  directory.py relay1 SOCKET LOGIN SENDER
      one such request: print the action
  directory.py fields SOCKET USER
      one auth-userdb lookup: print the reply kind and "field=value" lines
  directory.py sample FACTS N SEED
      print N user names of FACTS (every kind of user included)
"""
import os
import random
import smtplib
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailshard  # noqa: E402

FIELDS = ["user", "password", "mailshard_volume", "mailshard_path",
          "spam_prefs_threshold", "spam_prefs_action", "spam_prefs_allow",
          "spam_prefs_deny", "mailwarren_senders", "mailwarren_suspended",
          "mailwarren_customer", "pref_threshold", "pref_allow", "pref_deny"]
SITE_THRESHOLD = 5.0  # the test's plugin setting (spam_prefs_threshold)
SUFFIX = "ou=people,dc=example,dc=com"


def make_user(i, srv):
    u = {k: "" for k in FIELDS}
    name = "d%05d" % i
    u["user"] = name
    u["password"] = "pw-%d" % i
    if i % 50 == 1:
        u["mailshard_volume"] = "legacy"
    elif i % 50 == 2:
        u["mailshard_path"] = "%s/legacy/p/%s" % (srv, name)
    u["spam_prefs_threshold"] = {1: "3", 2: "8.5", 3: "12"}.get(i % 7, "")
    u["spam_prefs_action"] = {3: "keep"}.get(i % 11, "")
    if i % 5 == 1:
        u["spam_prefs_allow"] = "@friends.example boss@work.example"
    elif i % 5 == 2:
        u["spam_prefs_deny"] = "spammer@bad.example @worse.example"
    u["mailwarren_senders"] = "%s@example.test @%s.example" % (name, name)
    u["mailwarren_suspended"] = "yes" if i % 17 == 0 else "no"
    u["mailwarren_customer"] = "c%04d" % (i // 10)
    # the users' own SpamAssassin preferences (SQL: userpref rows; LDAP and
    # passwd-file hold the folded result in the user's own fields)
    if i % 9 == 4:
        u["pref_threshold"] = "9"
    if i % 9 == 5:
        u["pref_allow"] = "pal@mates.example"
    if i % 9 == 6:
        u["pref_deny"] = "pest@pests.example"
    return u


def folded(u):
    """the fields every directory answers for u (SQL folds userpref in)"""
    f = dict(u)
    if u["pref_threshold"]:
        f["spam_prefs_threshold"] = u["pref_threshold"]
    for k, p in (("spam_prefs_allow", "pref_allow"), ("spam_prefs_deny", "pref_deny")):
        f[k] = " ".join(x for x in (u[k], u[p]) if x)
    return f


def read_facts(path):
    users = {}
    with open(path) as fh:
        for line in fh:
            vals = line.rstrip("\n").split("\t")
            u = dict(zip(FIELDS, vals))
            users[u["user"]] = u
    return users


def read_sample(path):
    with open(path) as fh:
        return [l.strip() for l in fh if l.strip()]


def sql_str(v):
    return "NULL" if v == "" else "'" + v.replace("'", "''") + "'"


def gen(n, srv, out):
    n = int(n)
    users = [make_user(i, srv) for i in range(n)]
    with open(os.path.join(out, "facts.tsv"), "w") as fh:
        for u in users:
            fh.write("\t".join(u[k] for k in FIELDS) + "\n")
    with open(os.path.join(out, "users.passwd"), "w") as fh:
        for u in users:
            f = folded(u)
            extra = ["userdb_%s=%s" % (k, f[k].replace(" ", ","))
                     for k in FIELDS[2:11] if f[k]]
            fh.write("%s:{PLAIN}%s:5000:5000::::%s\n" % (u["user"], u["password"], " ".join(extra)))
    attr = {"mailshard_volume": "mailshardVolume", "mailshard_path": "mailshardPath",
            "spam_prefs_threshold": "spamPrefsThreshold", "spam_prefs_action": "spamPrefsAction",
            "spam_prefs_allow": "spamPrefsAllow", "spam_prefs_deny": "spamPrefsDeny",
            "mailwarren_senders": "mailwarrenSenders",
            "mailwarren_suspended": "mailwarrenSuspended",
            "mailwarren_customer": "mailwarrenCustomer"}
    with open(os.path.join(out, "users.ldif"), "w") as fh:
        for u in users:
            f = folded(u)
            fh.write("dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: mailwarrenUser\n"
                     "uid: %s\ncn: %s\nsn: %s\nuserPassword: {PLAIN}%s\n"
                     % (u["user"], SUFFIX, u["user"], u["user"], u["user"], u["password"]))
            for k, a in attr.items():
                if f[k]:
                    fh.write("%s: %s\n" % (a, f[k]))
            fh.write("\n")
    with open(os.path.join(out, "users.sql"), "w") as fh:
        fh.write("BEGIN;\n")
        for u in users:
            fh.write("INSERT INTO mailwarren_users (username, password, mailshard_volume, "
                     "mailshard_path, spam_prefs_threshold, spam_prefs_action, "
                     "spam_prefs_allow, spam_prefs_deny, senders, suspended, customer) "
                     "VALUES (%s);\n" % ", ".join([
                         sql_str(u["user"]), sql_str("{PLAIN}" + u["password"]),
                         sql_str(u["mailshard_volume"]), sql_str(u["mailshard_path"]),
                         sql_str(u["spam_prefs_threshold"]), sql_str(u["spam_prefs_action"]),
                         sql_str(u["spam_prefs_allow"]), sql_str(u["spam_prefs_deny"]),
                         sql_str(u["mailwarren_senders"]),
                         "true" if u["mailwarren_suspended"] == "yes" else "false",
                         sql_str(u["mailwarren_customer"])]))
            for pref, k in (("required_score", "pref_threshold"),
                            ("whitelist_from", "pref_allow"),
                            ("blacklist_from", "pref_deny")):
                if u[k]:
                    # an older row first: the newest required_score wins,
                    # every whitelist_from/blacklist_from row counts
                    if pref == "required_score":
                        fh.write("INSERT INTO userpref (username, preference, value) "
                                 "VALUES (%s, 'required_score', '1');\n" % sql_str(u["user"]))
                    fh.write("INSERT INTO userpref (username, preference, value) "
                             "VALUES (%s, '%s', %s);\n" % (sql_str(u["user"]), pref, sql_str(u[k])))
        fh.write("COMMIT;\n")


def sample(facts, n, seed):
    users = sorted(read_facts(facts))
    rnd = random.Random(int(seed))
    pick = set(rnd.sample(users, min(int(n), len(users))))
    # every kind at least once: pins, thresholds, actions, lists, prefs
    for name in users[:60]:
        pick.add(name)
    for name in sorted(pick):
        print(name)


def tab_unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\x01" and i + 1 < len(s):
            out.append({"1": "\x01", "t": "\t", "r": "\r", "n": "\n"}.get(s[i + 1], s[i + 1]))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class Userdb:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(30)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self.f.write(b"VERSION\t1\t0\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise IOError("auth-userdb closed the connection")
            if line.startswith(b"SPID"):
                break
        self.id = 0

    def lookup(self, user, service="lmtp"):
        self.id += 1
        self.f.write(("USER\t%d\t%s\tservice=%s\n" % (self.id, user, service)).encode())
        self.f.flush()
        line = self.f.readline().decode("utf-8", "replace").rstrip("\n")
        parts = line.split("\t")
        if parts[0] != "USER":
            return parts[0], {}
        fields = {}
        for p in parts[3:]:
            k, _, v = p.partition("=")
            fields[k] = tab_unescape(v)
        return "USER", fields


def split_list(v):
    return [x for x in v.replace(",", " ").split() if x]


def expected_place(u, srv, vols):
    if u["mailshard_path"]:
        return u["mailshard_path"]
    return mailshard.place(vols, "hash:2:2", u["user"], u["mailshard_volume"] or None)[1]


def check_userdb(sock, facts, vols, sample_file):
    users = read_facts(facts)
    db = Userdb(sock)
    bad = []
    names = read_sample(sample_file)
    for name in names:
        u = folded(users[name])
        kind, f = db.lookup(name)
        if kind != "USER":
            bad.append("%s: %s" % (name, kind))
            continue
        for k in FIELDS[2:11]:
            got = f.get(k, "")
            if k in ("spam_prefs_allow", "spam_prefs_deny", "mailwarren_senders"):
                ok = split_list(got) == split_list(u[k])
            elif k == "spam_prefs_action" and got == "junk" and u[k] == "":
                ok = True   # 2.4 LDAP's default("junk")
            elif k == "spam_prefs_threshold" and got == "5.0" and u[k] == "":
                ok = True   # 2.4 LDAP's default("5.0")
            elif k == "mailwarren_suspended" and got == "" and u[k] == "no":
                ok = True
            else:
                ok = got == u[k]
            if not ok:
                bad.append("%s: %s=%r, want %r" % (name, k, got, u[k]))
        want = expected_place(u, None, vols)
        home = f.get("home", "")
        mail = f.get("mail", "") or ("%s:%s" % (f.get("mail_driver", ""), f.get("mail_path", "")))
        if home != want or mail != "maildir:%s/Maildir" % want:
            bad.append("%s: home=%r mail=%r, want %s" % (name, home, mail, want))
    for i, name in enumerate(names[:50]):
        kind, _ = db.lookup("nosuch%d" % i)
        if kind != "NOTFOUND":
            bad.append("nosuch%d: %s, want NOTFOUND" % (i, kind))
    report(len(names), bad)


def report(n, bad):
    if bad:
        print("bad %d of %d" % (len(bad), n))
        for b in bad[:20]:
            print("  " + b)
    else:
        print("ok %d" % n)


def messages(u, tag):
    """(subject, sender, score, folder) for each test message of u"""
    thr = float(u["spam_prefs_threshold"] or SITE_THRESHOLD)
    spam_box = "INBOX" if u["spam_prefs_action"] == "keep" else ".Junk"
    out = []
    for n, (sender, score) in enumerate((("x@stranger.example", 7.0),
                                         ("y@stranger.example", 2.0))):
        out.append(("m-%s-%d" % (tag, n), sender, score,
                    spam_box if score >= thr else "INBOX"))
    allow = split_list(u["spam_prefs_allow"])
    deny = split_list(u["spam_prefs_deny"])
    if allow:
        a = allow[-1]
        sender = "someone" + a if a.startswith("@") else a
        out.append(("m-%s-allow-%s" % (tag, sender), sender, 14.0, "INBOX"))
    elif deny:
        d = deny[-1]
        sender = "someone" + d if d.startswith("@") else d
        out.append(("m-%s-deny-%s" % (tag, sender), sender, -5.0, spam_box))
    return out


def lmtp(port, facts, sample_file, tag):
    """one transaction per message kind, to all its recipients (at most 50
    a transaction, as Postfix's lmtp_destination_recipient_limit)"""
    users = read_facts(facts)
    names = read_sample(sample_file)
    batches = {}
    for name in names:
        for subj, sender, score, _ in messages(folded(users[name]), tag):
            batches.setdefault((subj, sender, score), []).append(name)
    s = smtplib.LMTP("127.0.0.1", int(port), timeout=120)
    s.ehlo("test")
    bad, n = [], 0
    for (subj, sender, score), rcpts in sorted(batches.items()):
        for i in range(0, len(rcpts), 50):
            chunk = ["%s@example.test" % r for r in rcpts[i:i + 50]]
            msg = ("From: %s\r\nTo: undisclosed-recipients:;\r\nSubject: %s\r\n"
                   "X-Spam-Score: %.1f\r\n\r\nbody\r\n" % (sender, subj, score))
            # smtplib's LMTP reads one reply after DATA; LMTP gives one
            # per accepted recipient
            refused = {}
            s.mail(sender)
            accepted = []
            for r in chunk:
                code, why = s.rcpt(r)
                if code == 250:
                    accepted.append(r)
                else:
                    refused[r] = (code, why)
            if accepted:
                code, why = s.data(msg.encode())
                replies = [(code, why)] + [s.getreply() for _ in accepted[1:]]
                for r, (code, why) in zip(accepted, replies):
                    if code != 250:
                        refused[r] = (code, why)
            else:
                s.rset()
            for r, why in refused.items():
                bad.append("%s to %s: %s" % (subj, r, why))
            n += len(chunk) - len(refused)
    s.quit()
    report(n, bad)


def folder_subjects(maildir, tag):
    """{subject: folder} of the test messages with TAG in one maildir"""
    found = {}
    for box, path in (("INBOX", maildir), (".Junk", maildir + "/.Junk")):
        for sub in ("new", "cur"):
            d = os.path.join(path, sub)
            if not os.path.isdir(d):
                continue
            for fn in os.listdir(d):
                with open(os.path.join(d, fn), "rb") as fh:
                    head = fh.read(4096).decode("utf-8", "replace")
                for line in head.split("\n"):
                    if line.startswith("Subject: m-%s-" % tag):
                        found.setdefault(line[9:].strip(), []).append(box)
    return found


def filed(srv, facts, sample_file, tag):
    users = read_facts(facts)
    names = read_sample(sample_file)
    vols = os.environ["VOLS"]
    bad, n = [], 0
    for name in names:
        u = folded(users[name])
        base = expected_place(u, srv, vols) + "/Maildir"
        found = folder_subjects(base, tag)
        for subj, _, score, box in messages(u, tag):
            n += 1
            got = found.pop(subj, None)
            if got != [box]:
                bad.append("%s: %s (score %s) in %s, want %s of %s" % (name, subj, score, got, box, base))
        for subj, boxes in found.items():
            bad.append("%s: unexpected %s in %s" % (name, subj, boxes))
    report(n, bad)


class Policy:
    """one connection to mailwarren-policyd, Postfix's RCPT requests"""

    def __init__(self, sock):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(30)
        self.s.connect(sock)
        self.f = self.s.makefile("rwb")

    def ask(self, rcpt, sender="a@stranger.example", sasl=""):
        req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
               "client_address=198.51.100.7\nclient_name=unknown\nhelo_name=mx.example\n"
               "sasl_method=%s\nsasl_username=%s\nsender=%s\nrecipient=%s\n\n"
               % ("PLAIN" if sasl else "", sasl, sender, rcpt))
        self.f.write(req.encode())
        self.f.flush()
        ans = ""
        while True:
            line = self.f.readline().decode()
            if not line or line == "\n":
                break
            ans += line.strip()
        return ans


def policy(sock, facts, sample_file):
    names = read_sample(sample_file)
    bad, n = [], 0
    pd = Policy(sock)
    for i, name in enumerate(names):
        a = pd.ask("%s@example.test" % name)
        n += 1
        if a != "action=DUNNO":
            bad.append("%s: %s" % (name, a))
        if i % 4 == 0:
            a = pd.ask("no%s@example.test" % name)
            n += 1
            if not a.startswith("action=550 5.1.1"):
                bad.append("no%s: %s" % (name, a))
    report(n, bad)


SUSPENDED = "action=550 5.7.1 Account suspended, contact support"
NOT_OWNED = "action=553 5.7.1 Sender address"


def relay(sock, facts, sample_file):
    """SASL logins relaying outward: own address and @domain OK, another
    address 553, a suspended login 550, an unknown login 550"""
    users = read_facts(facts)
    names = read_sample(sample_file)
    bad, n = [], 0
    pd = Policy(sock)
    out = "u@foreign.example"
    for name in names:
        u = users[name]
        susp = u["mailwarren_suspended"] == "yes"
        for sender, want in (("%s@example.test" % name, "action=OK"),
                             ("sales@%s.example" % name, "action=OK"),
                             ("%s@elsewhere.example" % name, NOT_OWNED)):
            if susp:
                want = SUSPENDED
            a = pd.ask(out, sender=sender, sasl=name)
            n += 1
            if not a.startswith(want):
                bad.append("%s as %s: %s, want %s" % (name, sender, a, want))
            if susp:
                break
    for i in range(10):
        a = pd.ask(out, sender="x@example.test", sasl="ghost%d" % i)
        n += 1
        if a != SUSPENDED:
            bad.append("ghost%d: %s, want %s" % (i, a, SUSPENDED))
    report(n, bad)


def fields(sock, user):
    kind, f = Userdb(sock).lookup(user)
    print(kind)
    for k in sorted(f):
        print("%s=%s" % (k, f[k]))


def relay1(sock, login, sender):
    print(Policy(sock).ask("u@foreign.example", sender=sender, sasl=login))


def imap_login(port, user, pw):
    import imaplib
    try:
        c = imaplib.IMAP4("127.0.0.1", int(port), timeout=60)
    except OSError as e:
        return "CONNECT %s" % e
    try:
        c.login(user, pw)
        c.logout()
        return "OK"
    except (imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError) as e:
        m = e.args[0] if e.args else str(e)
        return m.decode() if isinstance(m, bytes) else str(m)


class AuthClient:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(60)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self.f.write(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise IOError("auth-client closed the connection")
            if line.startswith(b"DONE"):
                break
        self.id = 0

    def plain(self, user, pw):
        import base64
        self.id += 1
        resp = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()
        self.f.write(("AUTH\t%d\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\t"
                      "rip=127.0.0.1\tresp=%s\n" % (self.id, resp)).encode())
        self.f.flush()
        return self.f.readline().decode().rstrip("\n").split("\t")[0]


def login(port, facts, sample_file, sasl_kw=None, sasl_sock=None):
    users = read_facts(facts)
    names = read_sample(sample_file)
    bad, n = [], 0
    ac = AuthClient(sasl_sock) if sasl_sock else None
    for i, name in enumerate(names):
        pw = users[name]["password"]
        # a refused login costs Dovecot's failure delay: a few of them
        tries = [(pw, True)] + ([(pw + "x", False)] if i % 32 == 0 else [])
        for p, good in tries:
            imap = i % 3 == 0 if good else i % 64 == 0
            if imap:
                r = imap_login(port, name, p)
                n += 1
                if (r == "OK") != good:
                    bad.append("IMAP %s/%s: %s" % (name, "good" if good else "bad", r))
            if ac:
                r = ac.plain(name, p)
                n += 1
                if (r == "OK") != good:
                    bad.append("SASL %s/%s: %s" % (name, "good" if good else "bad", r))
    report(n, bad)


def login1(port, user, pw):
    print(imap_login(port, user, pw))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"gen": gen, "userdb": check_userdb, "lmtp": lmtp, "filed": filed,
     "policy": policy, "relay": relay, "relay1": relay1, "fields": fields,"sample": sample, "login": login, "login1": login1}[cmd](*args)
