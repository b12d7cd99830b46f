#!/bin/bash
# t-distcheck.sh - the release tarball is complete: "make dist" from this
# build, then "make distcheck" inside the unpacked tarball (VPATH build,
# read-only sources, install/uninstall into a scratch prefix, unit tests).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/sandbox.sh"

[ -n "${top_builddir:-}" ] || skip_all "run from make check (needs top_builddir)"
sb_need_cmd autoreconf autoconf
sb_init distcheck
plan 3

ver=$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")
dist=$SB/mailwarren-$ver
# "make distdir" with our own target directory leaves the build tree's
# own tarball alone; tar it as "make dist" would.
if make -C "$top_builddir" distdir distdir="$dist" >"$SB/dist.log" 2>&1 \
	&& tar czf "$dist.tar.gz" -C "$SB" "mailwarren-$ver"; then
	ok "make distdir + tar wrote mailwarren-$ver.tar.gz"
else
	tail -20 "$SB/dist.log" | sed 's/^/# /'
	not_ok "make dist"
fi

# What the tarball must carry for a build and a test run of its own.
missing=
for f in configure Makefile.in build-aux/tap-driver.sh tests/summary.sh tests/lib/sandbox.sh \
	 lib/mw_cfg.c man/mailwarren.7 COPYING README.md; do
	tar tzf "$dist.tar.gz" | grep -qx "mailwarren-$ver/$f" || missing="$missing $f"
done
check "tarball carries configure, sources, harness, man page and licence${missing:+ (missing:$missing)}" \
	test -z "$missing"

# The inner build must not inherit the outer make's variables (a
# "make check TESTS=..." would otherwise recurse into this very test).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES TESTS
rm -rf "$dist"
tar xzf "$dist.tar.gz" -C "$SB"
if (cd "$dist" && ./configure --disable-integration-tests && make distcheck) >"$SB/distcheck.log" 2>&1; then
	ok "make distcheck in the unpacked tarball"
else
	tail -40 "$SB/distcheck.log" | sed 's/^/# /'
	not_ok "make distcheck in the unpacked tarball"
fi
# distcheck leaves read-only directories behind
chmod -R u+w "$SB" 2>/dev/null
done_testing
