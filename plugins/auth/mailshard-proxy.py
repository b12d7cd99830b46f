#!/usr/bin/python3
# mailshard-proxy - mark the backends of a mailshard proxy tier down and up,
# and bring moved users home safely (see mailshard-proxy(8)).
#
# The state lives in the store that passdb mailshard_proxy reads (a Dovecot
# dict: this command uses "doveadm dict" with the same URI); sessions are
# listed and kicked through each backend's doveadm server (doveadm who,
# doveadm kick over the doveadm protocol, authenticated with
# doveadm_password).
import base64
import os
import socket
import subprocess
import sys
import time

USAGE = """usage: mailshard-proxy [-c FILE] status
       mailshard-proxy [-c FILE] down [-k] NAME
       mailshard-proxy [-c FILE] up [-k] NAME
       mailshard-proxy [-c FILE] return [-k] NAME
       mailshard-proxy [-c FILE] where USER"""

DEFAULT_CONF = "/etc/mailwarren/mailshard-proxy.conf"
STATES = ("up", "down", "hold", "returning")


class Fail(Exception):
    pass


def log(msg):
    print("mailshard-proxy: " + msg, flush=True)


# ---- configuration ---------------------------------------------------------

def read_conf(path):
    conf = {"Dict": None, "KeyPrefix": "mailshard-proxy/", "Backend": [],
            "DoveadmPassword": None, "DoveadmPasswordFile": None,
            "HoldSeconds": "5", "DoveadmConfig": None, "Doveadm": "doveadm",
            "Timeout": "10"}
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        raise Fail("%s: %s" % (path, e.strerror))
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        value = value.strip()
        if key not in conf:
            raise Fail("%s:%d: unknown key %s" % (path, n, key))
        if not value:
            raise Fail("%s:%d: %s: no value" % (path, n, key))
        if key == "Backend":
            name, _, addr = value.partition(" ")
            host, _, port = addr.strip().rpartition(":")
            if not name or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise Fail("%s:%d: Backend: expected NAME HOST:PORT (the doveadm server)" % (path, n))
            conf["Backend"].append((name, host.strip("[]"), int(port)))
        else:
            conf[key] = value
    if not conf["Dict"]:
        raise Fail("%s: Dict is not set" % path)
    if not conf["Backend"]:
        raise Fail("%s: no Backend lines" % path)
    try:
        conf["HoldSeconds"] = float(conf["HoldSeconds"])
        conf["Timeout"] = float(conf["Timeout"])
    except ValueError:
        raise Fail("%s: HoldSeconds and Timeout are numbers of seconds" % path)
    if conf["HoldSeconds"] <= 0:
        raise Fail("%s: HoldSeconds must be above 0" % path)
    if conf["DoveadmPasswordFile"]:
        try:
            conf["DoveadmPassword"] = open(conf["DoveadmPasswordFile"]).read().strip()
        except OSError as e:
            raise Fail("%s: %s" % (conf["DoveadmPasswordFile"], e.strerror))
    if not conf["DoveadmPassword"]:
        raise Fail("%s: DoveadmPassword or DoveadmPasswordFile is not set" % path)
    if conf["KeyPrefix"].startswith("/") or ".." in conf["KeyPrefix"]:
        raise Fail("%s: KeyPrefix must be relative" % path)
    return conf


# ---- the store, through doveadm dict -----------------------------------------

class Store:
    def __init__(self, conf):
        self.conf = conf
        self.prefix = "shared/" + conf["KeyPrefix"]
        self.cmd = [conf["Doveadm"]]
        if conf["DoveadmConfig"]:
            self.cmd += ["-c", conf["DoveadmConfig"]]

    def _run(self, *args):
        try:
            return subprocess.run(self.cmd + ["dict"] + list(args), capture_output=True,
                                  text=True, timeout=self.conf["Timeout"])
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Fail("doveadm dict %s: %s" % (args[0], e))

    def get(self, key):
        r = self._run("get", self.conf["Dict"], self.prefix + key)
        if r.returncode == 0:
            return r.stdout.strip()
        if r.returncode == 68:		# DOVEADM_EX_NOTFOUND
            return None
        raise Fail("store: get %s: %s" % (key, r.stderr.strip()))

    def set(self, key, value):
        r = self._run("set", self.conf["Dict"], self.prefix + key, value)
        if r.returncode != 0:
            raise Fail("store: set %s: %s" % (key, r.stderr.strip()))

    def state(self, name):
        v = self.get("backend/" + name)
        if v is None:
            return "up", 0
        w = v.split()
        if len(w) != 2 or w[0] not in STATES or not w[1].isdigit():
            raise Fail("store: backend/%s: bad value %r" % (name, v))
        return w[0], int(w[1])

    def set_state(self, name, state, epoch):
        self.set("backend/" + name, "%s %d" % (state, epoch))
        log("backend %s: %s (epoch %d)" % (name, state, epoch))


# ---- a backend's doveadm server ------------------------------------------------

class Doveadm:
    def __init__(self, conf, name, host, port):
        self.conf, self.name, self.host, self.port = conf, name, host, port

    def run(self, *args):
        """the command's output rows (lists of fields); Fail if unreachable"""
        try:
            s = socket.create_connection((self.host, self.port), self.conf["Timeout"])
        except OSError as e:
            raise Fail("%s: doveadm server %s:%d: %s" % (self.name, self.host, self.port, e.strerror))
        with s, s.makefile("rwb") as f:
            try:
                f.write(b"VERSION\tdoveadm-server\t1\t0\n")
                f.flush()
                line = f.readline()
                if line == b"-\n":
                    auth = b"\0doveadm\0" + self.conf["DoveadmPassword"].encode()
                    f.write(b"PLAIN\t" + base64.b64encode(auth) + b"\n")
                    f.flush()
                    line = f.readline()
                if line != b"+\n":
                    raise Fail("%s: doveadm server refused the password" % self.name)
                f.write(("\t\t" + "\t".join(args) + "\n").encode())
                f.flush()
                rows = []
                while True:
                    line = f.readline()
                    if not line:
                        raise Fail("%s: doveadm server closed the connection" % self.name)
                    if line == b"+\n":
                        return rows
                    if line.startswith(b"-"):
                        raise Fail("%s: doveadm %s failed: %s" % (self.name, args[0],
                                                                  line[1:].decode().strip()))
                    fields = [unescape(x) for x in line.rstrip(b"\n").split(b"\t")]
                    if fields and fields[-1] == "":
                        fields.pop()
                    if fields:
                        rows.append(fields)
            except OSError as e:
                raise Fail("%s: doveadm server: %s" % (self.name, e))

    def users(self):
        return sorted({r[0] for r in self.run("who")})

    def kick(self, user):
        self.run("kick", user)


def unescape(b):
    # the doveadm protocol escapes \001 as \001 1, \t as \001 t, \n as \001 n
    out = bytearray()
    i = 0
    while i < len(b):
        if b[i] == 1 and i + 1 < len(b):
            out += {ord("1"): b"\x01", ord("t"): b"\t", ord("r"): b"\r", ord("n"): b"\n"}.get(b[i + 1], b[i + 1:i + 2])
            i += 2
        else:
            out.append(b[i])
            i += 1
    return out.decode("utf-8", "replace")


# ---- commands -----------------------------------------------------------------

def backend(conf, name):
    for b in conf["Backend"]:
        if b[0] == name:
            return Doveadm(conf, *b)
    raise Fail("%s is not a Backend of the configuration" % name)


def hold(conf, what):
    log("waiting %g s for decisions and connections in flight (%s)" % (conf["HoldSeconds"], what))
    time.sleep(conf["HoldSeconds"])


def cmd_status(conf, store, args):
    for name, host, port in conf["Backend"]:
        state, epoch = store.state(name)
        print("%s %s %d" % (name, state, epoch))
    return 0


def cmd_where(conf, store, args):
    if len(args) != 1:
        raise Fail(USAGE)
    v = store.get("away/" + args[0].lower())
    print("%s %s" % (args[0].lower(), v if v is not None else "home"))
    return 0


def cmd_down(conf, store, args):
    kick, name = parse_k(args)
    be = backend(conf, name)
    state, epoch = store.state(name)
    if state == "down":
        log("backend %s is already down" % name)
        return 0
    # hold: its users wait while decisions that saw it up finish
    store.set_state(name, "hold", epoch)
    hold(conf, "down " + name)
    try:
        users = be.users()
    except Fail as e:
        log("%s; taken as not running" % e)
        users = []
    if users and not kick:
        store.set_state(name, state, epoch)
        raise Fail("backend %s still has sessions of %d users (%s...): kick them with -k, "
                   "or stop the backend first" % (name, len(users), " ".join(users[:5])))
    for u in users:
        be.kick(u)
    if users:
        left = be.users()
        if left:
            store.set_state(name, state, epoch)
            raise Fail("backend %s: %d users still have sessions after the kick" % (name, len(left)))
        log("backend %s: kicked the sessions of %d users" % (name, len(users)))
    store.set_state(name, "down", epoch)
    return 0


def cmd_up(conf, store, args):
    kick, name = parse_k(args)
    backend(conf, name)
    state, epoch = store.state(name)
    if state in ("down", "hold"):
        # hold: no more records are written for its users while the
        # decisions that saw it down finish (those records must exist
        # before anybody goes home)
        store.set_state(name, "hold", epoch)
        hold(conf, "up " + name)
    return do_return(conf, store, name, epoch, kick)


def cmd_return(conf, store, args):
    kick, name = parse_k(args)
    backend(conf, name)
    state, epoch = store.state(name)
    if state == "down":
        raise Fail("backend %s is down: use up" % name)
    return do_return(conf, store, name, epoch, kick)


def do_return(conf, store, name, epoch, kick):
    # returning: the home's users with an away record wait; the others
    # are served at home
    store.set_state(name, "returning", epoch)
    hold(conf, "return to " + name)
    kept = moved = 0
    try:
        for other, host, port in conf["Backend"]:
            if other == name or store.state(other)[0] == "down":
                continue
            be = Doveadm(conf, other, host, port)
            away = []
            for u in be.users():
                v = store.get("away/" + u)
                w = v.split() if v else []
                if len(w) == 3 and w[0] == other and w[1] == name and w[2].isdigit() \
                        and int(w[2]) >= epoch:
                    away.append(u)
            if kick:
                for u in away:
                    be.kick(u)
                    moved += 1
                still = set(be.users())
                away = [u for u in away if u in still]
                moved -= len(away)
            for u in away:
                # still in session there: keep following it
                store.set("away/" + u, "%s %s %d" % (other, name, epoch + 1))
                kept += 1
    except Fail:
        # the away records stay valid: nobody moved
        store.set_state(name, "up", epoch)
        raise
    store.set_state(name, "up", epoch + 1)
    log("backend %s: users home; %d kicked, %d kept away (sessions elsewhere)"
        % (name, moved, kept))
    return 0 if kept == 0 else 3


def parse_k(args):
    kick = False
    if args and args[0] == "-k":
        kick, args = True, args[1:]
    if len(args) != 1:
        raise Fail(USAGE)
    return kick, args[0]


def main(argv):
    path = DEFAULT_CONF
    if len(argv) >= 2 and argv[0] == "-c":
        path, argv = argv[1], argv[2:]
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    cmds = {"status": cmd_status, "down": cmd_down, "up": cmd_up,
            "return": cmd_return, "where": cmd_where}
    if argv[0] not in cmds:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        conf = read_conf(path)
        return cmds[argv[0]](conf, Store(conf), argv[1:])
    except Fail as e:
        print("mailshard-proxy: " + str(e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
