#!/usr/bin/env python3
"""Cost of a tcpcraft-link session, step by step, and the helper's CPU while another port is flooded.

Run by bench/helper-cost.sh inside a network namespace it made (lo only), as root; each helper given on the
command line (LABEL=PATH) is copied, given cap_net_raw,cap_net_admin+eip, and run as nobody. Prints medians per
step and the ratios between the helpers. A report, not a test.
"""
import json, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

RUNS = int(os.environ.get("RUNS", "30"))
FLOOD_SECS = float(os.environ.get("FLOOD_SECS", "3"))


def install(path, tmp, label):
    d = os.path.join(tmp, label)
    os.makedirs(d)
    os.chmod(d, 0o755)
    dst = os.path.join(d, "tcpcraft-link")
    shutil.copy(path, dst)
    os.chmod(dst, 0o755)
    subprocess.run(["setcap", "cap_net_raw,cap_net_admin+eip", dst], check=True)
    out = subprocess.run([dst, "--version"], capture_output=True, text=True, check=True).stdout
    version = int(out.rsplit("protocol", 1)[1].strip(" )\n"))
    return dst, version


class Helper:
    def __init__(self, path, version):
        self.version = version
        self.p = subprocess.Popen(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--", path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def call(self, req):
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        reply = json.loads(self.p.stdout.readline())
        if reply.get("reply") == "error":
            raise RuntimeError(reply)
        return reply

    def open_flow(self, guard=False):
        req = {"op": "open", "mode": "flow", "targets": ["127.0.0.1"], "iface": None, "guard": guard,
               "layer2": False, "max_pps": 1000}
        if self.version >= 2:
            req["sports"] = []
        return self.call(req)

    def close(self):
        self.call({"op": "close"})
        self.p.wait()


def session_cost(path, version, port):
    t = [time.perf_counter()]
    h = Helper(path, version)
    h.call({"op": "hello", "version": version}); t.append(time.perf_counter())
    h.open_flow(); t.append(time.perf_counter())
    flow = {"local": f"127.0.0.1:{port}", "remote": "127.0.0.1:8080"}
    h.call({"op": "watch", "flow": flow}); t.append(time.perf_counter())
    h.close(); t.append(time.perf_counter())
    return [(b - a) * 1e6 for a, b in zip(t, t[1:])]


def cpu_ticks(pid):
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total


def lo_packets():
    with open("/proc/net/dev") as f:
        for line in f:
            if line.strip().startswith("lo:"):
                return int(line.split(":")[1].split()[1])
    return 0


def flood_cpu(path, version):
    """The helper watches its own flow while hping3 floods port 9 at about 100k pps; returns (cpu %, pps)."""
    h = Helper(path, version)
    h.call({"op": "hello", "version": version})
    now = h.open_flow()["now"]
    h.call({"op": "watch", "flow": {"local": "127.0.0.1:45000", "remote": "127.0.0.1:8080"}})
    flood = subprocess.Popen(["hping3", "-q", "-S", "-p", "9", "-i", "u10", "127.0.0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    c0, p0, t0 = cpu_ticks(h.p.pid), lo_packets(), time.perf_counter()
    start = now
    while time.perf_counter() - t0 < FLOOD_SECS:
        start += 100_000
        h.call({"op": "recv", "deadline": start + int((time.perf_counter() - t0) * 1e6)})
    c1, p1, t1 = cpu_ticks(h.p.pid), lo_packets(), time.perf_counter()
    flood.terminate(); flood.wait()
    h.close()
    hz = os.sysconf("SC_CLK_TCK")
    return 100.0 * (c1 - c0) / hz / (t1 - t0), (p1 - p0) / (t1 - t0)


def main():
    helpers = [a.split("=", 1) for a in sys.argv[1:]]
    listener = socket.socket(); listener.bind(("127.0.0.1", 8080)); listener.listen(64)
    tmp = tempfile.mkdtemp(prefix="tcpcraft-bench-")
    os.chmod(tmp, 0o755)
    results = {}
    for label, path in helpers:
        dst, version = install(path, tmp, label)
        steps = [session_cost(dst, version, 46000 + i) for i in range(RUNS)]
        med = [statistics.median(s[i] for s in steps) for i in range(4)]
        cpu, pps = flood_cpu(dst, version) if shutil.which("hping3") else (float("nan"), 0.0)
        results[label] = (med, cpu, pps)
        print(f"{label:>8}: spawn+hello {med[0]:8.0f} µs | open {med[1]:8.0f} µs | watch {med[2]:7.0f} µs | "
              f"close {med[3]:7.0f} µs | total {sum(med):8.0f} µs | capture CPU {cpu:5.1f}% at {pps:,.0f} pkt/s on lo")
    if len(helpers) == 2:
        (a, (ma, ca, _)), (b, (mb, cb, _)) = results.items()
        print(f"ratio {b}/{a}: session {sum(mb) / sum(ma):.2f}x, watch {mb[2] / ma[2]:.2f}x, "
              f"CPU under flood {cb / ca if ca else float('nan'):.2f}x")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
