#!/usr/bin/env python3
"""gen-mail-corpus.py OUTDIR - the deterministic corpus of bench/milter-bench.sh
(CRLF line ends; the same bytes on every run):
  text.eml   ~20 KB English text (the GPL-3 text Debian ships)
  b64.eml    ~21 KB: short text + 14 KB pseudo-random binary, base64
  zip.eml    ~25 KB: short text + a zip (text, binary, csv), base64
  big.eml    ~1 MB: short text + 740 KB pseudo-random binary, base64
  eicar-zip.eml  EICAR in a zip: every AV path must reject it (sanity check)
smtp-load.py makes every message unique with an X-Bench-Seq header."""
import base64
import io
import os
import random
import sys
import zipfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = random.Random(42)
EICAR = r'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
LIC = open('/usr/share/common-licenses/GPL-3', encoding='utf-8').read()


def crlf(t):
    return t.replace('\r\n', '\n').replace('\n', '\r\n')


def header(subject, mid, ctype):
    return ('From: Bob Sender <bob@example.org>\r\nTo: Alice <alice@example.com>\r\n'
            'Subject: %s\r\nDate: Mon, 30 Nov 2026 00:10:00 +0000\r\n'
            'Message-ID: <%s@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: %s\r\n'
            % (subject, mid, ctype))


def mime(subject, mid, parts):
    s = header(subject, mid, 'multipart/mixed; boundary="B42"') + \
        '\r\nThis is a MIME message.\r\n\r\n--B42\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n' + \
        crlf(LIC[:1500]) + '\r\n'
    for fname, ctype, data in parts:
        b = base64.encodebytes(data).decode().replace('\n', '\r\n')
        s += ('\r\n--B42\r\nContent-Type: %s; name="%s"\r\nContent-Transfer-Encoding: base64\r\n'
              'Content-Disposition: attachment; filename="%s"\r\n\r\n' % (ctype, fname, fname)) + b
    return s + '\r\n--B42--\r\n'


def write(name, text):
    with open(os.path.join(out, name), 'w', newline='') as f:
        f.write(text)


def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        for n, data in members:
            zi = zipfile.ZipInfo(n, date_time=(2026, 11, 30, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return buf.getvalue()


write('text.eml', header('Notes on the license', 't1', 'text/plain; charset=us-ascii') + '\r\n' + crlf(LIC[:20000]))
write('b64.eml', mime('report', 'a1', [('r.bin', 'application/octet-stream', rng.randbytes(14000))]))
write('zip.eml', mime('archive', 'z1', [('files.zip', 'application/zip', zipped([
    ('LICENSE.txt', LIC[:30000]), ('data.bin', rng.randbytes(3000)),
    ('table.csv', ''.join('%d,%d,%.6f\n' % (i, i * i, rng.random()) for i in range(400)))]))]))
write('big.eml', mime('big attachment', 'b1', [('blob.bin', 'application/octet-stream', rng.randbytes(740000))]))
write('eicar-zip.eml', mime('eicar in zip', 'e1', [('eicar.zip', 'application/zip', zipped([('eicar.com', EICAR)]))]))
for f in sorted(os.listdir(out)):
    print(f, os.path.getsize(os.path.join(out, f)))
