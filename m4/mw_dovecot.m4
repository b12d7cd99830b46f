dnl MW_DOVECOT - locate Dovecot's dovecot-config for the plugins
dnl
dnl --with-dovecot=DIR   directory holding dovecot-config; defaults to
dnl                      /usr/lib/dovecot when present (Debian, Ubuntu), so a
dnl                      plain ./configure works there.  --without-dovecot
dnl                      builds the daemons only (MX hosts need no dovecot-dev).
dnl --with-moduledir=DIR where the plugins are installed (default: Dovecot's
dnl                      own module directory).
dnl
dnl The Dovecot version comes from $dovecot_pkgincludedir/config.h
dnl (DOVECOT_VERSION_MAJOR/MINOR): 2.3 or 2.4, AM_CONDITIONAL DOVECOT24.
dnl
dnl Only the variables are read from dovecot-config; unlike DC_DOVECOT this
dnl does not touch CFLAGS or add Dovecot's configure options.
AC_DEFUN([MW_DOVECOT], [
    AC_ARG_WITH([dovecot],
        [AS_HELP_STRING([--with-dovecot=DIR], [Dovecot base directory holding dovecot-config (default /usr/lib/dovecot)])],
        [], [with_dovecot=/usr/lib/dovecot])
    have_dovecot=no
    dovecot24=no
    mw_dovecot_major=
    mw_dovecot_minor=
    mw_dovecot_summary=no
    AS_IF([test "x$with_dovecot" != xno], [
        AS_IF([test "x$with_dovecot" = xyes], [with_dovecot=/usr/lib/dovecot])
        AC_MSG_CHECKING([for $with_dovecot/dovecot-config])
        AS_IF([test -f "$with_dovecot/dovecot-config"], [AC_MSG_RESULT([yes])], [
            AC_MSG_RESULT([no])
            AC_MSG_ERROR([dovecot-config not found in $with_dovecot: install the Debian package dovecot-dev, pass --with-dovecot=DIR, or --without-dovecot to skip the Dovecot plugins])])
        eval `grep -i '^dovecot_[[a-z_]]*=' "$with_dovecot/dovecot-config"`
        eval `grep '^LIBDOVECOT[[A-Z0-9_]]*=' "$with_dovecot/dovecot-config"`
        AC_MSG_CHECKING([for Dovecot ABI version])
        mw_dovecot_abi=`sed -n 's/^#define DOVECOT_ABI_VERSION "\(.*\)"$/\1/p' "$dovecot_pkgincludedir/config.h" 2>/dev/null`
        AS_IF([test -z "$mw_dovecot_abi"], [
            AC_MSG_RESULT([unknown])
            AC_MSG_ERROR([Dovecot headers not found in $dovecot_pkgincludedir: install the Debian package dovecot-dev])])
        AC_MSG_RESULT([$mw_dovecot_abi])
        dnl the plugins are built for 2.3 (2.3.16 or later) or 2.4: one
        dnl source tree, the differences in plugins/common/mw-dovecot.c
        AC_MSG_CHECKING([for Dovecot version])
        mw_dovecot_major=`sed -n 's/^#define DOVECOT_VERSION_MAJOR \([[0-9]]*\).*/\1/p' "$dovecot_pkgincludedir/config.h"`
        mw_dovecot_minor=`sed -n 's/^#define DOVECOT_VERSION_MINOR \([[0-9]]*\).*/\1/p' "$dovecot_pkgincludedir/config.h"`
        mw_dovecot_version=`sed -n 's/^#define DOVECOT_VERSION "\(.*\)"$/\1/p' "$dovecot_pkgincludedir/config.h"`
        AS_IF([test -z "$mw_dovecot_major" || test -z "$mw_dovecot_minor"], [
            AC_MSG_RESULT([unknown])
            AC_MSG_ERROR([DOVECOT_VERSION_MAJOR/MINOR not found in $dovecot_pkgincludedir/config.h])])
        AC_MSG_RESULT([$mw_dovecot_version ($mw_dovecot_major.$mw_dovecot_minor)])
        AS_IF([test "$mw_dovecot_major" -ne 2 || test "$mw_dovecot_minor" -lt 3 || test "$mw_dovecot_minor" -gt 4], [
            AC_MSG_ERROR([Dovecot $mw_dovecot_version is not supported: the plugins build for Dovecot 2.3 (2.3.16 or later) and 2.4])])
        AS_IF([test "$mw_dovecot_minor" -ge 4], [dovecot24=yes])
        have_dovecot=yes
        mw_dovecot_summary="$with_dovecot, Dovecot $mw_dovecot_version ($mw_dovecot_abi)"
    ])
    AC_ARG_WITH([moduledir],
        [AS_HELP_STRING([--with-moduledir=DIR], [where to install the Dovecot plugins (default: Dovecot's module directory)])],
        [moduledir=$withval], [moduledir=$dovecot_moduledir])
    AC_SUBST([moduledir])
    AC_SUBST([dovecot_moduledir])
    AC_SUBST([LIBDOVECOT])
    AC_SUBST([LIBDOVECOT_INCLUDE])
    AC_SUBST([LIBDOVECOT_STORAGE])
    AC_SUBST([LIBDOVECOT_STORAGE_INCLUDE])
    AC_SUBST([LIBDOVECOT_LDA])
    AC_SUBST([LIBDOVECOT_LDA_INCLUDE])
    AC_SUBST([LIBDOVECOT_DOVEADM_INCLUDE])
    AC_SUBST([mw_dovecot_major])
    AC_SUBST([mw_dovecot_minor])
    AM_CONDITIONAL([HAVE_DOVECOT], [test "x$have_dovecot" = xyes])
    dnl the 2.4-only files: declared settings, their settings module
    AM_CONDITIONAL([DOVECOT24], [test "x$dovecot24" = xyes])
])
