#!/usr/bin/env python3
"""Writes the malformed presets and captures of tests/data/bad/ (small files only; big ones are made at test time
by tests/bad_input.rs). Run from anywhere: python3 tests/data/bad/generate.py. Expected results: expected.txt."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
P = os.path.join(HERE, "presets")
C = os.path.join(HERE, "captures")
os.makedirs(P, exist_ok=True)
os.makedirs(C, exist_ok=True)


def preset(name, data):
    with open(os.path.join(P, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def capture(name, data):
    with open(os.path.join(C, name), "wb") as f:
        f.write(data)


def with_seq(expr):
    return '(\n    version: 1,\n    name: "x",\n    steps: [Send((flags: "S", seq: "%s"))],\n)\n' % expr


GOOD = with_seq("isn")

# --- presets ---
preset("empty.ron", b"")
preset("only-whitespace.ron", "  \n\t\n")
preset("only-comment.ron", "// nothing here\n")
preset("unclosed-block-comment.ron", "/* never closed\n" + GOOD)
preset("nul-bytes.ron", GOOD[:20] + "\0\0\0" + GOOD[20:])
preset("not-utf8.ron", GOOD.encode()[:30] + b"\xff\xfe\xe9" + GOOD.encode()[30:])
preset("binary.ron", bytes((i * 37 + 11) % 256 for i in range(512)))
preset("truncated.ron", GOOD[: len(GOOD) // 2])
preset("unclosed-string.ron", '(\n    version: 1,\n    name: "x,\n    steps: [],\n)\n')
preset("json.ron", '{"version": 1, "name": "x", "steps": []}\n')
preset("bom-garbage.ron", "\ufeff" + "garbage(\n")
preset("bom-valid.ron", "\ufeff" + GOOD)
preset("crlf-valid.ron", GOOD.replace("\n", "\r\n"))
preset("expr-deep-parens.ron", with_seq("(" * 200 + "isn" + ")" * 200))
preset("expr-64-parens-valid.ron", with_seq("(" * 64 + "isn" + ")" * 64))
preset("expr-65-parens.ron", with_seq("(" * 65 + "isn" + ")" * 65))
preset("expr-long-chain-valid.ron", with_seq("+".join(["isn"] + ["1"] * 10000)))
preset("expr-bad-char.ron", with_seq("isn + $"))
preset("expr-unbalanced.ron", with_seq("(isn + 1"))
preset("expr-stray-close.ron", with_seq("isn + 1)"))
preset("expr-trailing.ron", with_seq("isn 1"))
preset("expr-dangling-op.ron", with_seq("isn +"))
preset("expr-huge-number.ron", with_seq("99999999999"))
preset("expr-bad-hex.ron", with_seq("0xZZ"))
preset("expr-unknown-name.ron", with_seq("bogus"))
preset("expr-empty.ron", with_seq(""))
preset("expr-nul.ron", with_seq("isn\\u{0}"))
preset("ron-deep-brackets.ron", GOOD.replace('seq: "isn"', "seq: " + "[" * 300 + "]" * 300))
preset("ron-deep-tuples.ron", "(" * 300 + ")" * 300 + "\n")
preset("ron-deep-steps.ron", '(version: 1, name: "x", steps: ' + "[" * 5000 + "]" * 5000 + ")\n")
preset("wrong-version.ron", GOOD.replace("version: 1", "version: 99"))
preset("unknown-field.ron", GOOD.replace('name: "x",', 'name: "x",\n    colour: "red",'))
preset("flags-bad.ron", GOOD.replace('flags: "S"', 'flags: "SQ"'))
preset("port-too-big.ron", GOOD.replace('name: "x",', 'name: "x",\n    port: 70000,'))
preset("port-negative.ron", GOOD.replace('name: "x",', 'name: "x",\n    port: -1,'))
preset("version-float.ron", GOOD.replace("version: 1", "version: 1e999"))
preset("steps-not-a-list.ron", '(\n    version: 1,\n    name: "x",\n    steps: "many",\n)\n')
preset("unknown-step.ron", GOOD.replace("Send((", "Teleport(("))
preset("bad-escape.ron", GOOD.replace('name: "x"', 'name: "\\u{110000}"'))
preset("name-10k-quotes.ron", GOOD.replace('name: "x"', 'name: "' + '\\"' * 10000 + '"'))

# --- captures ---
LE_HDR = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # Ethernet
RAW_HDR = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)  # raw IP


def rec(data, incl=None, orig=None, ts_frac=0):
    incl = len(data) if incl is None else incl
    orig = incl if orig is None else orig
    return struct.pack("<IIII", 1_700_000_000, ts_frac, incl, orig) + data


def ipv4_tcp(tcp_len=20, ihl=5):
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + tcp_len, 0, 0, 64, 6, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 65535, 0, 0)
    return ip + tcp[:tcp_len]


capture("zero-length.pcap", b"")
capture("one-byte.pcap", b"\xd4")
capture("three-bytes.pcap", b"\xd4\xc3\xb2")
capture("wrong-magic.pcap", b"\xde\xad\xbe\xef" + LE_HDR[4:])
capture("text.pcap", b"this is not a capture at all\n" * 10)
capture("header-truncated.pcap", LE_HDR[:10])
capture("header-only.pcap", LE_HDR)
capture("header-only-be.pcap", struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
capture("nanosecond-truncated.pcap", struct.pack("<I", 0xA1B23C4D) + b"\x02\x00")
capture("absurd-snaplen.pcap", struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 0xFFFFFFFF, 101) + rec(b"", incl=0xFFFFFFF0))
capture("snaplen-zero.pcap", struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 0, 101) + rec(ipv4_tcp()))
capture("incl-over-snaplen.pcap", struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 16, 101) + rec(ipv4_tcp()))
capture("record-header-truncated.pcap", RAW_HDR + rec(ipv4_tcp())[:8])
capture("record-data-truncated.pcap", RAW_HDR + rec(ipv4_tcp())[:30])
capture("incl-over-orig.pcap", RAW_HDR + rec(ipv4_tcp(), orig=10))
capture("bad-microseconds.pcap", RAW_HDR + rec(ipv4_tcp(), ts_frac=2_000_000_000))
capture("incl-2gib.pcap", RAW_HDR + rec(b"", incl=0x7FFFFFFF))
capture("unknown-linktype.pcap", struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147) + rec(ipv4_tcp()))
capture("ethernet-not-ip.pcap", LE_HDR + rec(b"\xff" * 12 + b"\x08\x06" + b"\x00" * 28))
capture("ipv4-bad-ihl.pcap", RAW_HDR + rec(ipv4_tcp(ihl=15)))
capture("tcp-header-truncated.pcap", RAW_HDR + rec(ipv4_tcp(tcp_len=8)))
capture("zero-length-records.pcap", RAW_HDR + rec(b"") * 1000)

SHB = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
IDB_RAW = struct.pack("<IIHHI", 1, 20, 101, 0, 65535) + struct.pack("<I", 20)


def epb(data, iface=0, caplen=None, block_len=None):
    pad = (4 - len(data) % 4) % 4
    total = 32 + len(data) + pad
    caplen = len(data) if caplen is None else caplen
    block_len = total if block_len is None else block_len
    return struct.pack("<IIIIIII", 6, block_len, iface, 0, 0, caplen, len(data)) + data + b"\0" * pad + struct.pack("<I", block_len)


capture("pcapng-magic-only.pcapng", b"\x0a\x0d\x0d\x0a")
capture("pcapng-bad-byte-order.pcapng", SHB[:8] + b"\x11\x22\x33\x44" + SHB[12:])
capture("pcapng-len-not-multiple-of-4.pcapng", struct.pack("<II", 0x0A0D0D0A, 30) + SHB[8:])
capture("pcapng-len-under-12.pcapng", struct.pack("<II", 0x0A0D0D0A, 8) + SHB[8:])
capture("pcapng-len-huge.pcapng", struct.pack("<II", 0x0A0D0D0A, 0xFFFFFFF0) + SHB[8:])
capture("pcapng-trailer-mismatch.pcapng", SHB[:-4] + struct.pack("<I", 32))
capture("pcapng-shb-only.pcapng", SHB)
capture("pcapng-block-truncated.pcapng", SHB + IDB_RAW[:6])
capture("pcapng-epb-huge-len.pcapng", SHB + IDB_RAW + struct.pack("<II", 6, 0xFFFFFFF0) + b"\0" * 64)
capture("pcapng-epb-caplen-over-block.pcapng", SHB + IDB_RAW + epb(ipv4_tcp(), caplen=4000))
capture("pcapng-epb-no-interface.pcapng", SHB + epb(ipv4_tcp(), iface=7))
capture("pcapng-unknown-linktype.pcapng", SHB + struct.pack("<IIHHI", 1, 20, 147, 0, 65535) + struct.pack("<I", 20) + epb(ipv4_tcp()))
capture("pcapng-simple-packet-short.pcapng", SHB + IDB_RAW + struct.pack("<III", 3, 12, 12))
capture("pcapng-idb-truncated-body.pcapng", SHB + struct.pack("<IIH", 1, 12, 101) + struct.pack("<HI", 0, 12))
