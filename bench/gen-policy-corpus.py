#!/usr/bin/python3
"""gen-policy-corpus.py - tables for the policy benchmark.

usage: gen-policy-corpus.py OUTDIR [-n CIDRS] [-d DOMAINS] [--v6-share 0.2]

Writes into OUTDIR:
  customers.cidr   N networks "cidr customer-id": IPv4 in 16.0.0.0/4
                   (40% /32, 20% /30, 20% /29, 10% /28, 10% /24) and a share
                   of IPv6 /48 and /64 networks in 2a02::/16, no overlaps
  customer-ips.txt one client address inside each of up to 10,000 of them
  hosted.txt       D hosted domains
  postfwd.cf       the same relay decision for postfwd (its table: lookups
                   cannot match IPv6, so IPv6 customers get their own rule)
Deterministic (fixed seed).
"""
import argparse
import ipaddress
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("-n", type=int, default=100000)
    ap.add_argument("-d", type=int, default=1000)
    ap.add_argument("--v6-share", type=float, default=0.2)
    a = ap.parse_args()
    rnd = random.Random(20261201)
    os.makedirs(a.outdir, exist_ok=True)
    n6 = int(a.n * a.v6_share)
    n4 = a.n - n6
    nets = []
    # IPv4: walk 16.0.0.0/4 in /24 blocks, one network per block
    blocks = rnd.sample(range(1 << 20), n4)
    for i, b in enumerate(blocks):
        base = (16 << 24) + (b << 8)
        r = rnd.random()
        plen = 32 if r < .4 else 30 if r < .6 else 29 if r < .8 else 28 if r < .9 else 24
        host = 0 if plen == 24 else rnd.randrange(0, 256, 1 << (32 - plen))
        nets.append(ipaddress.ip_network((base + host, plen)))
    for i in range(n6):
        plen = 48 if i % 2 else 64
        val = (0x2a02 << 112) + (i << (128 - plen))
        nets.append(ipaddress.ip_network((val, plen)))
    rnd.shuffle(nets)
    with open(os.path.join(a.outdir, "customers.cidr"), "w") as f:
        for i, net in enumerate(nets):
            f.write("%s cust%d\n" % (net, i))
    with open(os.path.join(a.outdir, "customer-ips.txt"), "w") as f:
        for net in rnd.sample(nets, min(10000, len(nets))):
            f.write("%s\n" % net[min(1, net.num_addresses - 1)])
    with open(os.path.join(a.outdir, "hosted.txt"), "w") as f:
        for i in range(a.d):
            f.write("hosted%d.example\n" % i)
    d = os.path.abspath(a.outdir)
    with open(os.path.join(a.outdir, "customers4.cidr"), "w") as f:
        for net in nets:
            if net.version == 4:
                f.write("%s\n" % net)
    with open(os.path.join(a.outdir, "postfwd.cf"), "w") as f:
        f.write("id=HOSTED; recipient_domain==file:%s/hosted.txt; action=DUNNO\n" % d)
        f.write("id=SASL; sasl_username=~^.+$; action=OK\n")
        f.write("id=CUSTOMER; client_address==table:%s/customers4.cidr; action=OK\n" % d)
        f.write("id=RELAYDENY; action=554 5.7.1 Relay access denied\n")


if __name__ == "__main__":
    main()
