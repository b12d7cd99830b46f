#!/usr/bin/env python3
"""gen-clamdb.py - ClamAV test signature databases and test messages for mailwarren.

The official ClamAV databases cannot be downloaded in the build sandbox, so the
tests bring their own.  Python 3 standard library only; all output is
deterministic (same bytes on every run).

Usage:
  gen-clamdb.py test OUTDIR
      Small test DB: the TEST SIGNATURES below, plus the synthetic attachment
      file OUTDIR/samples/mailwarren-test-attachment.bin that
      Mailwarren.Test.Attachment matches.
  gen-clamdb.py scaled OUTDIR [--hashes N] [--bodies N] [--sha256-share F] [--seed S]
      Benchmark DB: the test DB plus N random hash signatures (default
      1,000,000; a share F (default 0.1) as SHA-256 in synth.hsb, the rest
      MD5 in synth.hdb) and N random body signatures (default 50,000) in
      synth.ndb.  The random signatures never match anything real.
  gen-clamdb.py samples OUTDIR
      Test messages (*.eml, CRLF line ends as a milter sees them), the raw
      trigger files (eicar.com, the synthetic attachment), and expected.tsv,
      one line per message:
          file <TAB> first-name <TAB> all-names <TAB> bare-first-name
      first-name is what a default scan reports ("-" = clean) and all-names
      (comma-separated, "-" = none) the distinct names `clamscan --allmatch`
      reports, for the message as the milter scans it: with an mbox "From "
      line prepended.  bare-first-name is the default result for the file
      as it is, without that line (differs only for eicar-b64-nomagic.eml).
      All with the test DB loaded, and without the ".UNOFFICIAL" suffix that
      ClamAV appends to every name from an unsigned database.

Load with `clamscan -d OUTDIR FILE` or cl_load(OUTDIR).  ClamAV loads only
files with database extensions, so the samples/ subdirectory is ignored.
Signature counts ("Known viruses"): test = TEST_SIG_COUNT,
scaled = TEST_SIG_COUNT + hashes + bodies.

TEST SIGNATURES (file, name, what triggers it; see also SAMPLES below)
  test.ndb  Test.EICAR.NDB              the 68-byte EICAR string anywhere in any
                                        file or decoded part (also in a text body)
  test.ndb  Mailwarren.Test.Body        BODY_MARKER anywhere (e.g. a text body)
  test.hdb  Test.EICAR.HDB              MD5 of a part that is exactly the EICAR
                                        file: a decoded attachment or archive
                                        member, never a line inside a text body
  test.hsb  Mailwarren.Test.Attachment  SHA-256 of ATTACHMENT (whole part)
  test.ldb  Test.EICAR.InZip            EICAR string inside a file whose direct
                                        container is a zip archive
  test.ldb  Mailwarren.Test.Logical     LOGICAL_MARKERS[0] AND [1] in one file
                                        or part; either alone is clean

SAMPLES (samples mode; names as reported with a From_ line prepended)
  eicar-plain.eml        EICAR line in a text/plain body      NDB
  eicar-b64.eml          EICAR as base64 attachment           NDB, HDB
  eicar-zip.eml          EICAR in a zip (base64)              NDB, HDB, InZip
  eicar-zipzip.eml       EICAR in a zip in a zip              NDB, HDB, InZip
  eicar-qp.eml           EICAR as a fully =XX-encoded QP part NDB (QP-decoded parts
                                                              get a newline: no HDB)
  eicar-rfc822.eml       message/rfc822 with the base64 EICAR NDB, HDB
  eicar-b64-nomagic.eml  base64 EICAR, no From:/MIME-Version: NDB, HDB; clean when
                                                              scanned without From_ line
  ham.eml                text+html alternative, clean zip     clean
  body-trigger.eml       BODY_MARKER in a text body           Mailwarren.Test.Body
  attachment-trigger.eml the synthetic attachment, base64     Mailwarren.Test.Attachment
  logical-both.eml       both LOGICAL_MARKERS                 Mailwarren.Test.Logical
  logical-one.eml        only the first one (near miss)       clean
A default scan reports the first name listed; NDB/HDB/InZip are short for
Test.EICAR.NDB/.HDB/.InZip.  The encoded samples never contain the plain
EICAR string, so a detection proves that the decoder ran.
"""

import argparse
import hashlib
import io
import os
import random
import sys
import zipfile
from email import policy
from email.message import EmailMessage

# ---------------------------------------------------------------------------
# Trigger strings.  They are assembled at run time so that this file itself
# does not match a virus scanner (EICAR) or the test DB (the markers).

EICAR = ('X5O!P%@AP[4\\PZX54(P^)7CC)7}$'
         + 'EICAR-STANDARD-' + 'ANTIVIRUS-TEST-'
         + 'FILE!$H+H*').encode('ascii')
assert len(EICAR) == 68 and hashlib.md5(EICAR).hexdigest() == \
    '44d88612fea8a8f36de82e1278abb02f'

BODY_MARKER = '-'.join(['MAILWARREN', 'TEST', 'BODY', 'MARKER', '3f9a1c7e']).encode()
LOGICAL_MARKERS = ('-'.join(['MAILWARREN', 'LOGICAL', 'ALPHA', '5e1b']).encode(),
                   '-'.join(['MAILWARREN', 'LOGICAL', 'OMEGA', '9d4c']).encode())

ATTACHMENT_NAME = 'mailwarren-test-attachment.bin'


def attachment_bytes():
    """The synthetic attachment Mailwarren.Test.Attachment matches: 4 KiB of
    SHA-256 counter-mode output behind a fixed tag (no known file type)."""
    out = bytearray(b'MWTESTATTACHMENT\0\1\2\3')
    i = 0
    while len(out) < 4096:
        out += hashlib.sha256(b'mailwarren-test-attachment-%d' % i).digest()
        i += 1
    return bytes(out[:4096])


# Functionality-level range a logical signature applies to: 81 and up covers
# every engine in use (libclamav 1.4.6 reports cl_retflevel() = 216).
LDB_ENGINE = 'Engine:81-255'

# Number of signatures the test DB contributes to "Known viruses".
TEST_SIG_COUNT = 6


def test_db_files():
    """Return {filename: text} of the small test database."""
    eicar_hex = EICAR.hex()
    att = attachment_bytes()
    a_hex, b_hex = (m.hex() for m in LOGICAL_MARKERS)
    return {
        # .ndb  Name:TargetType:Offset:HexSig   (target 0 = any file type)
        'test.ndb': (f'Test.EICAR.NDB:0:*:{eicar_hex}\n'
                     f'Mailwarren.Test.Body:0:*:{BODY_MARKER.hex()}\n'),
        # .hdb  MD5:FileSize:Name    .hsb  SHA256:FileSize:Name
        'test.hdb': f'{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Test.EICAR.HDB\n',
        'test.hsb': (f'{hashlib.sha256(att).hexdigest()}:{len(att)}:'
                     'Mailwarren.Test.Attachment\n'),
        # .ldb  Name;TargetDescription;LogicalExpression;Subsig0;Subsig1...
        'test.ldb': (f'Test.EICAR.InZip;{LDB_ENGINE},Container:CL_TYPE_ZIP,Target:0;'
                     f'0;{eicar_hex}\n'
                     f'Mailwarren.Test.Logical;{LDB_ENGINE},Target:0;'
                     f'0&1;{a_hex};{b_hex}\n'),
    }


# ---------------------------------------------------------------------------
# Output helpers

def write_atomic(path, data):
    """Write via a temp name and rename, so that a scanner reloading the
    directory never sees a half-written database file.  The temp name has no
    database extension, so ClamAV would ignore it anyway."""
    tmp = os.path.join(os.path.dirname(path), '.' + os.path.basename(path) + '.tmp')
    with open(tmp, 'wb') as f:
        f.write(data.encode('ascii') if isinstance(data, str) else data)
    os.replace(tmp, path)


SYNTH_FILES = ('synth.hdb', 'synth.hsb', 'synth.ndb')


def write_test_db(outdir):
    os.makedirs(os.path.join(outdir, 'samples'), exist_ok=True)
    for name, text in test_db_files().items():
        write_atomic(os.path.join(outdir, name), text)
    write_atomic(os.path.join(outdir, 'samples', ATTACHMENT_NAME), attachment_bytes())


def cmd_test(args):
    write_test_db(args.outdir)
    # a test DB must not silently keep a previous scaled run's signatures
    for name in SYNTH_FILES:
        try:
            os.unlink(os.path.join(args.outdir, name))
        except FileNotFoundError:
            pass
    print(f'{args.outdir}: {TEST_SIG_COUNT} test signatures')


# ---------------------------------------------------------------------------
# Scaled benchmark DB

def synth_body_sig(rng, i):
    """One random .ndb line, 16-40 literal bytes; 15% with a '??' wildcard
    byte, 10% with a '{0-8}' gap, as real body signatures use them.  The
    wildcard and gap stay >= 4 bytes from either end, so every static run
    is long enough for ClamAV's matcher (its Aho-Corasick trie is 2-3 bytes
    deep; random 16+ byte patterns never match real data)."""
    n = rng.randint(16, 40)
    h = rng.randbytes(n).hex()
    r = rng.random()
    if r < 0.15:
        k = rng.randint(4, n - 5) * 2
        h = h[:k] + '??' + h[k + 2:]
    elif r < 0.25:
        k = rng.randint(4, n - 4) * 2
        h = h[:k] + '{0-8}' + h[k:]
    # target types: 0 any (most), 1 PE, 3 normalised HTML, 4 mail, 7 normalised text
    target = rng.choice((0, 0, 0, 1, 3, 4, 7))
    return f'Synth.Body.{i}:{target}:*:{h}\n'


def write_sigs(path, count, make_line, chunk=50000):
    """Write `count` lines make_line(i), building the text in chunks (fast,
    bounded memory).  With count 0 the file is removed instead: libclamav
    refuses an empty database file ("Empty database file" -> the whole load
    fails with "Malformed database")."""
    if count == 0:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    tmp = os.path.join(os.path.dirname(path), '.' + os.path.basename(path) + '.tmp')
    with open(tmp, 'w', encoding='ascii') as f:
        for start in range(0, count, chunk):
            f.write(''.join(make_line(i) for i in range(start, min(start + chunk, count))))
    os.replace(tmp, path)


def cmd_scaled(args):
    if args.hashes < 0 or args.bodies < 0 or not 0.0 <= args.sha256_share <= 1.0:
        sys.exit('gen-clamdb.py: --hashes/--bodies must be >= 0, --sha256-share in [0,1]')
    write_test_db(args.outdir)
    rng = random.Random(args.seed)
    n_sha = round(args.hashes * args.sha256_share)
    n_md5 = args.hashes - n_sha
    # Sizes spread 1 KB..5 MB like real malware samples; every entry has a
    # concrete size (ClamAV keys its hash sets by size).
    write_sigs(os.path.join(args.outdir, 'synth.hdb'), n_md5,
               lambda i: '%032x:%d:Synth.Hash.%d\n' % (rng.getrandbits(128),
                                                      rng.randint(1000, 5_000_000), i))
    write_sigs(os.path.join(args.outdir, 'synth.hsb'), n_sha,
               lambda i: '%064x:%d:Synth.Sha256.%d\n' % (rng.getrandbits(256),
                                                        rng.randint(1000, 5_000_000), i))
    write_sigs(os.path.join(args.outdir, 'synth.ndb'), args.bodies,
               lambda i: synth_body_sig(rng, i))
    total = TEST_SIG_COUNT + args.hashes + args.bodies
    print(f'{args.outdir}: {total} signatures ({TEST_SIG_COUNT} test, '
          f'{n_md5} MD5, {n_sha} SHA-256, {args.bodies} body)')


# ---------------------------------------------------------------------------
# Sample messages

SMTP = policy.SMTP  # CRLF line ends, as the milter receives the message


def new_message(subject, mid):
    msg = EmailMessage(policy=SMTP)
    msg['From'] = 'Bob Sender <bob@example.org>'
    msg['To'] = 'Alice <alice@example.com>'
    msg['Subject'] = subject
    msg['Date'] = 'Mon, 23 Nov 2026 00:10:00 +0000'
    msg['Message-ID'] = f'<{mid}@mailwarren.test>'
    return msg


def finalize(msg, prefix):
    """Make the output byte-identical on every run and tidy: the email package
    picks random MIME boundaries (set fixed ones), and parts made by
    add_attachment() on an EmailMessage carry their own MIME-Version header
    (only the top level needs one).  An attached message/rfc822 is a
    finished message of its own and is not descended into."""
    counter = [0]

    def walk(part, top):
        if not top:
            del part['MIME-Version']
        if part.get_content_maintype() == 'multipart':
            part.set_boundary(f'=_mw_{prefix}_{counter[0]}')
            counter[0] += 1
            for child in part.get_payload():
                walk(child, False)

    walk(msg, True)
    return msg


def zip_bytes(members):
    """A deflated zip of {name: bytes} with a fixed timestamp."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 23, 0, 10, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def qp_encode_all(data, width=75):
    """Quoted-printable with *every* byte encoded as =XX, so the raw message
    never contains the plain trigger and a match proves QP decoding.  Every
    line, the last one included, ends in a soft break '=', so by RFC 2045 the
    decoded part is exactly `data`.  (libclamav 1.4 still appends a newline to
    a QP-decoded part, so whole-part hashes such as Test.EICAR.HDB do not
    match it; only body patterns do.)"""
    enc = ['=%02X' % b for b in data]
    per_line = (width - 1) // 3
    lines = [''.join(enc[i:i + per_line]) + '=' for i in range(0, len(enc), per_line)]
    return '\r\n'.join(lines) + '\r\n'


HAM_TEXT = (
    'Hello Alice,\n\n'
    'the quarterly report is attached as a zip archive, and the notes from\n'
    'Tuesday follow below.  The milter reads each message once and scans it in\n'
    'memory before the queue file is committed, so a virus is refused while\n'
    'the client still holds the transaction.\n\n'
    '-- \nBob\n')


def build_samples():
    """Return a list of (filename, message bytes, first-name, all-names,
    bare-first-name): the expected ClamAV results with the test DB, see the
    module docstring (expected.tsv)."""
    att = attachment_bytes()
    eicar_zip = zip_bytes({'eicar.com': EICAR})
    out = []

    def add(fname, msg, first, names, bare_first=None):
        out.append((fname, finalize(msg, fname.split('.')[0]).as_bytes(), first, names,
                    first if bare_first is None else bare_first))

    NDB, HDB, INZIP = 'Test.EICAR.NDB', 'Test.EICAR.HDB', 'Test.EICAR.InZip'

    # EICAR as a line of a plain text body: only the body pattern can match
    # (the part is not exactly the EICAR file, so the MD5 does not).
    m = new_message('plain eicar', 'eicar-plain')
    m.set_content('The next line is the EICAR test string.\n'
                  + EICAR.decode() + '\n', cte='7bit')
    add('eicar-plain.eml', m, NDB, [NDB])

    # EICAR as a base64 attachment: the decoded part is the EICAR file.
    m = new_message('eicar attachment', 'eicar-b64')
    m.set_content('See attachment.\n')
    m.add_attachment(EICAR, maintype='application', subtype='octet-stream',
                     filename='eicar.com')
    add('eicar-b64.eml', m, NDB, [NDB, HDB])

    # EICAR in a zip, and in a zip inside a zip (base64 attachments).
    m = new_message('eicar in zip', 'eicar-zip')
    m.set_content('See attachment.\n')
    m.add_attachment(eicar_zip, maintype='application', subtype='zip', filename='eicar.zip')
    add('eicar-zip.eml', m, NDB, [NDB, HDB, INZIP])

    m = new_message('eicar in zip in zip', 'eicar-zipzip')
    m.set_content('See attachment.\n')
    m.add_attachment(zip_bytes({'inner.zip': eicar_zip}), maintype='application',
                     subtype='zip', filename='outer.zip')
    add('eicar-zipzip.eml', m, NDB, [NDB, HDB, INZIP])

    # EICAR as a fully quoted-printable encoded text part: the raw message
    # never contains the string, so a match proves QP decoding.  Only the
    # body pattern matches (see qp_encode_all for why not the MD5).
    m = new_message('eicar quoted-printable', 'eicar-qp')
    m.set_content('The next part is quoted-printable.\n')
    m.make_mixed()
    qp = EmailMessage(policy=SMTP)
    qp['Content-Type'] = 'text/plain; charset=us-ascii'
    qp['Content-Transfer-Encoding'] = 'quoted-printable'
    qp['Content-Disposition'] = 'inline'
    qp.set_payload(qp_encode_all(EICAR))
    m.attach(qp)
    add('eicar-qp.eml', m, NDB, [NDB])

    # EICAR (base64) inside an attached message/rfc822.
    inner = new_message('inner message', 'eicar-inner')
    inner.set_content('Forwarded with its attachment.\n')
    inner.add_attachment(EICAR, maintype='application', subtype='octet-stream',
                         filename='eicar.com')
    finalize(inner, 'inner')
    m = new_message('fwd: inner message', 'eicar-rfc822')
    m.set_content('Forwarded message attached.\n')
    m.add_attachment(inner)  # message/rfc822 part
    add('eicar-rfc822.eml', m, NDB, [NDB, HDB])

    # EICAR attachment in a message without the headers ClamAV uses to type
    # a file as mail (no From:, MIME-Version:, Received:).  libclamav 1.4.6
    # types the bare file as text and does not decode it; with an mbox
    # "From " line prepended (as the milter does) it is found.
    m = EmailMessage(policy=SMTP)
    m['X-Mailwarren-Test'] = 'no mail magic'
    m['To'] = 'alice@example.com'
    m['Subject'] = 'eicar, odd headers'
    m.set_content('See attachment.\n')
    m.add_attachment(EICAR, maintype='application', subtype='octet-stream',
                     filename='eicar.com')
    del m['MIME-Version']
    add('eicar-b64-nomagic.eml', m, NDB, [NDB, HDB], bare_first='-')

    # Clean ham: text + HTML alternative and a clean zip attachment, so the
    # MIME, HTML and zip parsers all run without a false positive.
    m = new_message('quarterly report', 'ham')
    m.set_content(HAM_TEXT)
    m.add_alternative('<html><body><p>' + HAM_TEXT.replace('\n\n', '</p><p>')
                      + '</p></body></html>\n', subtype='html')
    m.add_attachment(zip_bytes({'report.txt': b'Revenue up, costs down.\n' * 40}),
                     maintype='application', subtype='zip', filename='report.zip')
    add('ham.eml', m, '-', [])

    # Synthetic triggers.
    m = new_message('body marker', 'body-trigger')
    m.set_content('Hello,\n\nthis line carries the test marker: '
                  + BODY_MARKER.decode() + ' and goes on.\n', cte='7bit')
    add('body-trigger.eml', m, 'Mailwarren.Test.Body', ['Mailwarren.Test.Body'])

    m = new_message('synthetic attachment', 'attachment-trigger')
    m.set_content('See attachment.\n')
    m.add_attachment(att, maintype='application', subtype='octet-stream',
                     filename=ATTACHMENT_NAME)
    add('attachment-trigger.eml', m, 'Mailwarren.Test.Attachment',
        ['Mailwarren.Test.Attachment'])

    a, b = (x.decode() for x in LOGICAL_MARKERS)
    m = new_message('logical, both parts', 'logical-both')
    m.set_content(f'First {a}\nthen some text\nand last {b}\n', cte='7bit')
    add('logical-both.eml', m, 'Mailwarren.Test.Logical', ['Mailwarren.Test.Logical'])

    m = new_message('logical, one part only', 'logical-one')
    m.set_content(f'Only {a}\nand no second marker.\n', cte='7bit')
    add('logical-one.eml', m, '-', [])

    return out


def cmd_samples(args):
    os.makedirs(args.outdir, exist_ok=True)
    write_atomic(os.path.join(args.outdir, 'eicar.com'), EICAR)
    write_atomic(os.path.join(args.outdir, ATTACHMENT_NAME), attachment_bytes())
    rows = []
    for fname, data, first, names, bare_first in build_samples():
        write_atomic(os.path.join(args.outdir, fname), data)
        rows.append(f'{fname}\t{first}\t{",".join(names) or "-"}\t{bare_first}\n')
    write_atomic(os.path.join(args.outdir, 'expected.tsv'), ''.join(rows))
    print(f'{args.outdir}: {len(rows)} messages, expected.tsv')


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('test', help='small test signature DB')
    p.add_argument('outdir')
    p.set_defaults(func=cmd_test)
    p = sub.add_parser('scaled', help='test DB plus random signatures for benchmarks')
    p.add_argument('outdir')
    p.add_argument('--hashes', type=int, default=1_000_000, help='hash signatures (default 1000000)')
    p.add_argument('--bodies', type=int, default=50_000, help='body signatures (default 50000)')
    p.add_argument('--sha256-share', type=float, default=0.1,
                   help='share of hash signatures written as SHA-256 .hsb (default 0.1)')
    p.add_argument('--seed', type=int, default=20261123, help='random seed (default 20261123)')
    p.set_defaults(func=cmd_scaled)
    p = sub.add_parser('samples', help='test messages and expected.tsv')
    p.add_argument('outdir')
    p.set_defaults(func=cmd_samples)
    args = ap.parse_args()
    args.func(args)


if __name__ == '__main__':
    main()
