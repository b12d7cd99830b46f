dnl mailwarren-milter for Sendmail: add this line to sendmail.mc (Debian:
dnl /etc/mail/sendmail.mc), before the MAILER() lines, then rebuild
dnl sendmail.cf (Debian: sendmailconfig; elsewhere: m4 sendmail.mc >
dnl sendmail.cf) and restart Sendmail.
dnl
dnl S= must match MilterSocket in /etc/mailwarren/mailwarren-milter.conf
dnl (inet:8890@127.0.0.1 there is S=inet:8890@127.0.0.1 here; a UNIX
dnl socket is S=local:/run/mailwarren/milter.sock).  F=T: when the milter
dnl is down or stuck, tempfail the mail (4xx, the sender retries) - never
dnl accept it unscanned.  T=: timeouts for connecting (C), sending (S),
dnl reading a reply (R) and the whole end of message (E); keep E above the
dnl milter's SpamdTimeout.
INPUT_MAIL_FILTER(`mailwarren', `S=inet:8890@127.0.0.1, F=T, T=C:30s;S:4m;R:4m;E:10m')dnl
