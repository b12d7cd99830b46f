#!/usr/bin/env python3
"""mailshard.py - an independent implementation of mailshard(7) placement.

Written from the man page, not from lib/mw_shard.c, so that the integration
tests check the plugin against the documented algorithm.

usage: mailshard.py VOLUMES LAYOUT USER [PIN_VOLUME]
prints "VOLUME PATH" (the path of the user's directory), or exits 1 with
"refused: REASON" for a name that must be refused.
"""
import math
import sys

MASK = (1 << 64) - 1


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK


def siphash24(data, key=bytes(range(16))):
    """SipHash-2-4, 64-bit result of the reference implementation."""
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:], "little")
    v = [0x736F6D6570736575 ^ k0, 0x646F72616E646F6D ^ k1,
         0x6C7967656E657261 ^ k0, 0x7465646279746573 ^ k1]

    def rnd():
        v[0] = (v[0] + v[1]) & MASK; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & MASK; v[3] = rotl(v[3], 16); v[3] ^= v[2]
        v[0] = (v[0] + v[3]) & MASK; v[3] = rotl(v[3], 21); v[3] ^= v[0]
        v[2] = (v[2] + v[1]) & MASK; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32)

    n = len(data) - len(data) % 8
    for i in range(0, n, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m; rnd(); rnd(); v[0] ^= m
    b = (len(data) & 0xFF) << 56 | int.from_bytes(data[n:], "little")
    v[3] ^= b; rnd(); rnd(); v[0] ^= b
    v[2] ^= 0xFF
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def fmix64(x):
    x ^= x >> 33; x = (x * 0xFF51AFD7ED558CCD) & MASK
    x ^= x >> 33; x = (x * 0xC4CEB9FE1A85EC53) & MASK
    return x ^ (x >> 33)


def normalise(user):
    b = user.encode("utf-8", "surrogateescape")
    if not b:
        raise ValueError("empty username")
    if len(b) > 255:
        raise ValueError("username longer than 255 bytes")
    if b[0:1] == b".":
        raise ValueError("username starts with '.'")
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("invalid UTF-8")
    for ch in s:
        if ch in "/: " or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or 0xD800 <= ord(ch) <= 0xDFFF:
            raise ValueError("refused character %r" % ch)
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


def volumes(spec):
    out = []
    for tok in spec.replace(",", " ").split():
        name, rest = tok.split("=", 1)
        path, weight = (rest.rsplit(":", 1) + ["1"])[:2] if ":" in rest else (rest, "1")
        path = "/" + "/".join(p for p in path.split("/") if p)
        out.append((name, path, int(weight)))
    return out


def place(spec, layout, user, pin_volume=None):
    name = normalise(user)
    vols = volumes(spec)
    hu = siphash24(name.encode())
    if pin_volume:
        vol = next(v for v in vols if v[0] == pin_volume)
    else:
        best = None
        for v in vols:
            if v[2] == 0:
                continue
            s = fmix64(hu ^ siphash24(v[0].encode()))
            k = -math.log((float(s >> 11) + 0.5) / 2.0 ** 53) / v[2]
            if best is None or k < best[0]:
                best = (k, v)
        vol = best[1]
    kind, _, arg = (layout or "hash:2:2").partition(":")
    dirs = []
    if kind == "letters":
        n = int(arg or 3)
        chars = list(name) + ["_"] * n
        dirs = [c if ("a" <= c <= "z" or "0" <= c <= "9") else "_" for c in chars[:n]]
    else:
        levels, width = (int(x) for x in (arg or "2:2").split(":"))
        hexs = "%016x" % hu
        dirs = [hexs[i * width:(i + 1) * width] for i in range(levels)]
    return vol[0], "/".join([vol[1]] + dirs + [name])


if __name__ == "__main__":
    try:
        v, p = place(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    except ValueError as e:
        print("refused:", e)
        sys.exit(1)
    print(v, p)
