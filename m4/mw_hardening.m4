dnl MW_HARDENING - compiler and linker hardening, on by default
dnl
dnl Adds, when the compiler accepts them: -fstack-protector-strong,
dnl -D_FORTIFY_SOURCE=2 (needs optimisation), -fstack-clash-protection,
dnl and for programs -fPIE/-pie; for everything full RELRO
dnl (-Wl,-z,relro -Wl,-z,now).  --disable-hardening turns it off.
dnl Results: MW_HARDEN_CFLAGS, MW_HARDEN_LDFLAGS (all objects),
dnl MW_PIE_CFLAGS, MW_PIE_LDFLAGS (executables only; shared plugins must not
dnl get -pie).
AC_DEFUN([MW_CC_TRY_FLAG], [
    AC_MSG_CHECKING([whether $CC accepts $1])
    mw_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes]); $2="$$2 $1"], [AC_MSG_RESULT([no])])
    CFLAGS=$mw_save_CFLAGS
])
AC_DEFUN([MW_LD_TRY_FLAG], [
    AC_MSG_CHECKING([whether the linker accepts $1])
    mw_save_LDFLAGS=$LDFLAGS
    LDFLAGS="$LDFLAGS $1"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes]); $2="$$2 $1"], [AC_MSG_RESULT([no])])
    LDFLAGS=$mw_save_LDFLAGS
])
AC_DEFUN([MW_HARDENING], [
    AC_ARG_ENABLE([hardening],
        [AS_HELP_STRING([--disable-hardening], [do not add stack protector, FORTIFY_SOURCE, PIE and RELRO flags])],
        [], [enable_hardening=yes])
    MW_HARDEN_CFLAGS=
    MW_HARDEN_LDFLAGS=
    MW_PIE_CFLAGS=
    MW_PIE_LDFLAGS=
    AS_IF([test "x$enable_hardening" != xno], [
        MW_CC_TRY_FLAG([-fstack-protector-strong], [MW_HARDEN_CFLAGS])
        MW_CC_TRY_FLAG([-fstack-clash-protection], [MW_HARDEN_CFLAGS])
        dnl FORTIFY_SOURCE warns without optimisation; respect a user -U/-D.
        AS_CASE([" $CPPFLAGS $CFLAGS "],
            [*_FORTIFY_SOURCE*], [],
            [MW_HARDEN_CFLAGS="$MW_HARDEN_CFLAGS -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2"])
        MW_CC_TRY_FLAG([-fPIE], [MW_PIE_CFLAGS])
        MW_LD_TRY_FLAG([-pie], [MW_PIE_LDFLAGS])
        MW_LD_TRY_FLAG([-Wl,-z,relro], [MW_HARDEN_LDFLAGS])
        MW_LD_TRY_FLAG([-Wl,-z,now], [MW_HARDEN_LDFLAGS])
    ])
    AC_SUBST([MW_HARDEN_CFLAGS])
    AC_SUBST([MW_HARDEN_LDFLAGS])
    AC_SUBST([MW_PIE_CFLAGS])
    AC_SUBST([MW_PIE_LDFLAGS])
])
