#!/usr/bin/python3
"""Builds datagrams with Scapy, the reference oracle for tests/wire_scapy.rs.

Reads JSON lines on stdin, each {"spec": <tcpcraft SegmentSpec as serde JSON>} or {"expr": "<scapy expression>"},
and prints one line of hex per input line (or "ERR <message>").
"""
import json
import sys

from scapy.all import IP, IPv6, TCP, Raw  # noqa: E402


def manual(v):
    """tcpcraft's Auto<T>: "Auto" or {"Manual": v}."""
    return None if v == "Auto" else v["Manual"]


def tcp_options(opts):
    out = []
    for o in opts:
        if o == "Eol":
            out.append(("EOL", None))
        elif o == "Nop":
            out.append(("NOP", None))
        elif o == "SackPermitted":
            out.append(("SAckOK", b""))
        else:
            ((k, v),) = o.items()
            if k == "Mss":
                out.append(("MSS", v))
            elif k == "WindowScale":
                out.append(("WScale", v))
            elif k == "Sack":
                out.append(("SAck", tuple(x for b in v for x in (b["left"], b["right"]))))
            elif k == "Timestamps":
                out.append(("Timestamp", (v["val"], v["ecr"])))
            elif k == "FastOpen":
                out.append(("TFO", bytes.fromhex(v)))
            elif k == "Raw":
                if v["length"] is not None:
                    raise ValueError("Scapy cannot write a wrong option length")
                out.append((v["kind"], bytes.fromhex(v["data"])))
            else:
                raise ValueError("unknown option " + k)
    return out


def bad(correct):
    return 1 if correct == 0 else correct ^ 0xFFFF


def from_spec(spec):
    ((family, ip),) = spec["ip"].items()
    tcp = spec["tcp"]
    ((ptype, pval),) = spec["payload"].items()
    payload = pval.encode() if ptype == "Text" else bytes.fromhex(pval)
    csum = {}

    def checksum_field(policy, key):
        if policy == "Auto":
            return None
        if policy == "Bad":
            csum[key] = True
            return None
        return policy["Manual"]

    r = tcp["reserved"]
    f = tcp["flags"]
    flags = sum(bit << i for i, bit in enumerate(
        [f["fin"], f["syn"], f["rst"], f["psh"], f["ack"], f["urg"], f["ece"], f["cwr"], f["ae"]]))
    t = TCP(sport=tcp["sport"], dport=tcp["dport"], seq=tcp["seq"], ack=tcp["ack"],
            dataofs=manual(tcp["data_offset"]), reserved=(r[0] << 2) | (r[1] << 1) | r[2], flags=flags,
            window=tcp["window"], chksum=checksum_field(tcp["checksum"], "tcp"), urgptr=tcp["urgent"],
            options=tcp_options(tcp["options"]))
    if tcp["padding"] != "Auto":
        raise ValueError("Scapy cannot write manual padding")
    if family == "V4":
        kw = {}
        v = manual(ip["version"])
        if v is not None:
            kw["version"] = v
        opts = bytes.fromhex(ip["options"])
        l3 = IP(ihl=manual(ip["ihl"]), tos=(ip["dscp"] << 2) | ip["ecn"], len=manual(ip["total_len"]),
                id=ip["id"], flags=(ip["evil"] << 2) | (ip["df"] << 1) | ip["mf"], frag=ip["frag_offset"],
                ttl=ip["ttl"], proto=ip["protocol"], chksum=checksum_field(ip["checksum"], "ip"),
                src=ip["src"], dst=ip["dst"], options=[Raw(opts)] if opts else [], **kw)
    else:
        kw = {}
        v = manual(ip["version"])
        if v is not None:
            kw["version"] = v
        l3 = IPv6(tc=ip["traffic_class"], fl=ip["flow_label"], plen=manual(ip["payload_len"]),
                  nh=ip["next_header"], hlim=ip["hop_limit"], src=ip["src"], dst=ip["dst"], **kw)
    pkt = l3 / t
    if payload:
        pkt = pkt / Raw(payload)
    raw = bytearray(bytes(pkt))
    # "Bad" is the correct checksum XOR 0xFFFF (1 when the correct one is 0).
    if csum.get("ip"):
        correct = int.from_bytes(raw[10:12], "big")
        pkt[IP].chksum = bad(correct)
        raw = bytearray(bytes(pkt))
    if csum.get("tcp"):
        off = len(bytes(pkt)) - len(bytes(pkt[TCP]))
        correct = int.from_bytes(raw[off + 16:off + 18], "big")
        pkt[TCP].chksum = bad(correct)
        raw = bytearray(bytes(pkt))
    return bytes(raw)


def main():
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if "spec" in req:
                out = from_spec(req["spec"])
            else:
                out = bytes(eval(req["expr"], {"IP": IP, "IPv6": IPv6, "TCP": TCP, "Raw": Raw}))
            print(out.hex())
        except Exception as e:  # report, keep going
            print("ERR %s: %s" % (type(e).__name__, str(e).replace("\n", " ")))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
