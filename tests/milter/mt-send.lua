-- mt-send.lua - miltertest driver: one message through mailwarren-milter,
-- then the outcome on stdout, one fact per line, for the shell tests:
--   reply continue|replycode|reject|tempfail|discard|accept|other
--   smtpreply yes|no          the reply is exactly code/xcode/text (if given)
--   hdr NAME: VALUE           each header the milter added (known names)
--   del NAME yes|no           for each name in "deleted" (comma list)
--   quarantine yes|no         (if "quarantine" is set) smfi_quarantine used
-- Globals (miltertest -D name=value):
--   sock     milter socket (local:/path is fast; inet has a 44 ms stall)
--   msg      message file (CRLF or LF; headers, empty line, body)
--   bodyfile optional: send this file as the body instead (binary safe)
--   prepend  optional: extra header "Name: value", before the message's
--   prepend2 optional: a second one
--   rawhdr   optional: one more header "Name: value", first of all, with
--            the escapes \r, \n and \t in it (name or value) sent as
--            CR, LF and tab, raw as Sendmail may pass them
--   code, xcode, text   optional: expected SMTP reply (all three)
--   deleted  optional: header names whose deletion is checked
--   changed  optional: header names whose change is checked ("chg NAME yes|no")
--   quarantine optional: if set, print "quarantine yes|no"
--   rcpts    optional: number of recipients (default 1)
--   from     optional: envelope sender address (default sender@origin.example;
--            "" for the null sender)
--   rcpt     optional: the recipient address (each of rcpts; default
--            rcptN@dest.example).  If the milter refuses it the outcome is
--            "rcptreply replycode|reject|tempfail|other" and the session
--            ends there (the reply text is in the milter's log line).
--   waitfile optional: after MAIL FROM, print "waiting" and wait (at most
--            60 s) until this file exists: the test changes something while
--            the message is open
--   auth     optional: {auth_authen} value
--   client   optional: client IP address (default 192.0.2.7); "IPv6:addr"
--            (Sendmail's form) goes into {client_addr} as given
--   qid      optional: the queue id macro "i" (default MTQID1)
--   timeout  optional: seconds to wait for a reply (default 120)
-- Body chunks are at most 65535 bytes (libmilter drops the connection on
-- a larger one).  Errors inside miltertest exit 1 without a message (its pitfall), so each
-- step prints what it does on failure.
local function fail(what) print("error " .. what); os.exit(3) end

-- replies may take a while: a 50 MB message costs libclamav ~10 s here
mt.set_timeout(tonumber(timeout or "120"))
local conn = mt.connect(sock, 40, 0.05)
if conn == nil then fail("connect " .. sock) end
if mt.negotiate(conn, nil, nil, nil) ~= nil then fail("negotiate") end
local addr = client or "192.0.2.7"
-- {client_addr} as the MTA writes it (Sendmail: "IPv6:addr"); conninfo
-- takes the bare address
local maddr = addr
if addr:sub(1, 5):lower() == "ipv6:" then addr = addr:sub(6) end
mt.macro(conn, SMFIC_CONNECT, "{client_addr}", maddr, "j", "mx.mwtest.example",
	"{client_name}", "client.example")
if mt.conninfo(conn, "client.example", addr) ~= nil then fail("conninfo") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("connect reply") end
if mt.helo(conn, "client.example") ~= nil then fail("helo") end
if auth ~= nil then
	mt.macro(conn, SMFIC_MAIL, "i", qid or "MTQID1", "{auth_authen}", auth)
else
	mt.macro(conn, SMFIC_MAIL, "i", qid or "MTQID1")
end
if mt.mailfrom(conn, "<" .. (from or "sender@origin.example") .. ">") ~= nil then fail("mailfrom") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("mail reply") end
if waitfile ~= nil then
	print("waiting")
	io.stdout:flush()
	local waited = 0
	while io.open(waitfile, "r") == nil do
		if waited > 600 then fail("waitfile " .. waitfile) end
		mt.sleep(0.1)
		waited = waited + 1
	end
end
local names = { [SMFIR_CONTINUE] = "continue", [SMFIR_REPLYCODE] = "replycode",
	[SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail",
	[SMFIR_DISCARD] = "discard", [SMFIR_ACCEPT] = "accept" }
for i = 1, tonumber(rcpts or "1") do
	local to = rcpt or ("rcpt" .. i .. "@dest.example")
	mt.macro(conn, SMFIC_RCPT, "i", qid or "MTQID1", "{rcpt_addr}", to)
	if mt.rcptto(conn, "<" .. to .. ">") ~= nil then fail("rcptto") end
	local rr = mt.getreply(conn)
	if rr ~= SMFIR_CONTINUE then
		print("rcptreply " .. (names[rr] or "other"))
		mt.disconnect(conn)
		os.exit(0)
	end
end
if mt.data(conn) ~= nil then fail("data") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("data reply") end

local f = io.open(msg, "rb")
if f == nil then fail("open " .. msg) end
local data = f:read("*a"); f:close()
local hdrs, body = data:match("^(.-)\r?\n\r?\n(.*)$")
if hdrs == nil then hdrs, body = data, "" end
if prepend2 ~= nil then hdrs = prepend2 .. "\n" .. hdrs end
if prepend ~= nil then hdrs = prepend .. "\n" .. hdrs end
local name, value
local function flush()
	if name ~= nil then
		if mt.header(conn, name, value) ~= nil then fail("header " .. name) end
	end
end
if rawhdr ~= nil then
	local raw = rawhdr:gsub("\\r", "\r"):gsub("\\n", "\n"):gsub("\\t", "\t")
	local rn, rv = raw:match("^(.-): (.*)$")
	if rn == nil then fail("rawhdr " .. rawhdr) end
	if mt.header(conn, rn, rv) ~= nil then fail("header " .. rn) end
end
for line in (hdrs .. "\n"):gmatch("(.-)\r?\n") do
	if line:match("^[ \t]") and name ~= nil then
		value = value .. "\n" .. line
	elseif line ~= "" then
		flush()
		name, value = line:match("^([^:]+):[ \t]?(.*)$")
		if name == nil then name, value = line, "" end
	end
end
flush()
if mt.eoh(conn) ~= nil then fail("eoh") end
if bodyfile ~= nil then
	if mt.bodyfile(conn, bodyfile) ~= nil then fail("bodyfile") end
else
	local i = 1
	while i <= #body do
		if mt.bodystring(conn, body:sub(i, i + 65534)) ~= nil then fail("body") end
		if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("body reply") end
		i = i + 65535
	end
end
if mt.eom(conn) ~= nil then fail("eom") end

local r = mt.getreply(conn)
print("reply " .. (names[r] or "other"))
if code ~= nil then
	print("smtpreply " .. (mt.eom_check(conn, MT_SMTPREPLY, code, xcode, text) and "yes" or "no"))
end
for _, h in ipairs({ "X-Spam-Flag", "X-Spam-Score", "X-Spam-Level", "X-Spam-Status",
	"X-Virus-Scanned", "X-Virus-Found", "X-Mailwarren-Stamp", "Message-ID" }) do
	local v = mt.getheader(conn, h, 0)
	if v ~= nil then print("hdr " .. h .. ": " .. v) end
end
if quarantine ~= nil then
	print("quarantine " .. (mt.eom_check(conn, MT_QUARANTINE) and "yes" or "no"))
end
if changed ~= nil then
	for h in changed:gmatch("[^,]+") do
		print("chg " .. h .. " " .. (mt.eom_check(conn, MT_HDRCHANGE, h) and "yes" or "no"))
	end
end
if deleted ~= nil then
	for h in deleted:gmatch("[^,]+") do
		print("del " .. h .. " " .. (mt.eom_check(conn, MT_HDRDELETE, h) and "yes" or "no"))
	end
end
mt.disconnect(conn)
