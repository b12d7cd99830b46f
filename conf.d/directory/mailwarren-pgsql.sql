-- mailwarren-pgsql.sql - the directory tables for PostgreSQL: one row per
-- login in mailwarren_users, and SpamAssassin's own per-user preference
-- table userpref, which webmail preference plugins already edit.  Dovecot's
-- sql passdb/userdb read both (conf.d/directory/dovecot-sql.conf.ext for
-- Dovecot 2.3, dovecot-2.4-sql.conf.ext for 2.4); see mailwarren-directory(7)
-- for what each column means and for the queries.
--
-- Load it once:  psql -d mail -f mailwarren-pgsql.sql
-- Then give Dovecot's database user read access, e.g.
--   CREATE ROLE dovecot LOGIN PASSWORD '...';
--   GRANT SELECT ON mailwarren_users, userpref TO dovecot;
-- and the webmail's user write access to userpref only.

CREATE TABLE mailwarren_users (
  -- the login, as Dovecot sees it after auth_username_format (lowercased
  -- full address or local part; the same key mailshard hashes)
  username varchar(255) NOT NULL PRIMARY KEY,
  -- Dovecot password with its scheme prefix, e.g. {SHA512-CRYPT}$6$...
  password varchar(255) NOT NULL,
  -- the system uid/gid the mail is stored as (one vmail user at most sites)
  uid integer NOT NULL DEFAULT 5000,
  gid integer NOT NULL DEFAULT 5000,
  -- placement pins read by mailshard (NULL: the hash decides)
  mailshard_volume varchar(64),
  mailshard_path varchar(1024),
  -- the operator's spam settings for this user (NULL: the plugin's
  -- default); the user's own userpref rows are added to / win over them
  spam_prefs_threshold varchar(16),
  spam_prefs_action varchar(16),
  spam_prefs_allow text,
  spam_prefs_deny text,
  -- addresses and @domains this login may send as (spaces or commas)
  senders text,
  -- a suspended login may not relay (mailwarren_suspended)
  suspended boolean NOT NULL DEFAULT false,
  -- the customer (billing account) the login belongs to
  customer varchar(64)
);

-- SpamAssassin's userpref table, exactly as its sql/userpref_pg.sql
-- defines it (spamassassin package, /usr/share/doc/spamassassin/sql/), so
-- that SpamAssassin itself and the webmail plugins that edit it work
-- unchanged.  mailwarren reads the preferences required_score,
-- whitelist_from and blacklist_from of username = the Dovecot username.
CREATE TABLE userpref (
  prefid bigserial NOT NULL unique primary key,
  username varchar(100) NOT NULL,
  preference varchar(50) NOT NULL,
  value varchar(255) NOT NULL
);
CREATE INDEX userpref_username_idx ON userpref(username);
