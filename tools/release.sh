# release.sh - the --debian option of tools/test.sh and tools/package-check.sh
#
# usage (sourced): . "$TOP/tools/release.sh"; mw_release NAME "$@"
#
# mw_release parses the script's arguments (only "--debian 12|13"). When
# the release asked for is not the running one, it re-executes
# tools/NAME inside the Debian 13 chroot of tools/debian13.sh and does not
# return; otherwise it returns and the script goes on here.  TOP must be
# the top of the tree.

mw_release() {
	_mw_name=$1 _mw_debian=
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--debian) _mw_debian=${2:-}; shift ;;
		*) echo "usage: tools/$_mw_name [--debian 12|13]" >&2; exit 2 ;;
		esac
		shift
	done
	[ -n "$_mw_debian" ] || return 0
	[ "$_mw_debian" != "$(. /etc/os-release && echo "${VERSION_ID:-}")" ] || return 0
	case $_mw_debian in
	13) exec "$TOP/tools/debian13.sh" run "tools/$_mw_name" ;;
	*) echo "$_mw_name: --debian $_mw_debian: only 13 is available besides the running release" >&2
	   exit 2 ;;
	esac
}
