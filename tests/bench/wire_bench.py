#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""On the wire: ion-agent vs the Python client of ION's quickstart, on one simulator (not a test).

  tests/bench/wire_bench.py [--units 100] [--rounds 2] [--wan-units 50] [--rtt-ms 100]
  (WIRE_DRAIN=build/tests/bench/wire_drain by default; needs the simulator's packages)

1. Backlog drain on loopback, alternating A (agent: tests/bench/wire_drain, the real outbox,
   dispatcher and GraphQL client) and B (tests/bench/quickstart_client.py) `rounds` times,
   each on fresh serials of the same simulator: events/s (event = one scan = 3 intents),
   client CPU per event, simulator CPU per event (/proc of the simulator), HTTP requests per
   event (simulator log) and TLS handshakes per event (connections the simulator accepted).
2. The agent draining `wan-units` units through a relay that delays every chunk by RTT/2 in
   each direction (netem-like, in user space): intents/s and handshakes per intent.
3. Online through the relay: one scan at a time after idle; accept-to-applied in round trips.
Figures depend on the machine and on what else runs on it: read, not asserted.
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "ion-sim", "tests"))
from conftest import SimProcess  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def health(sim):
    return sim.admin("GET", "/health")


def log_requests(sim):
    n, since = 0, 0
    while True:
        out = sim.admin("GET", "/log?since=%d&limit=10000" % since)
        entries = out["entries"]
        n += len(entries)
        if not entries:
            return n
        since = entries[-1]["seq"]


class Relay:
    """TCP relay adding `delay` seconds each way (one-way = RTT/2), in its own thread."""

    def __init__(self, target_port, one_way):
        self.target_port, self.one_way = target_port, one_way
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader, writer):
        queue = asyncio.Queue()

        async def deliver():
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0, due - self.loop.time()))
                if data is None:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()
        task = self.loop.create_task(deliver())
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((self.loop.time() + self.one_way, data or None))
                if not data:
                    break
        except ConnectionError:
            queue.put_nowait((self.loop.time(), None))
        await task

    async def _client(self, reader, writer):
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_w), self._pipe(up_r, writer), return_exceptions=True)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)


def start_nghttpx(sim):
    """nghttpx (Debian nghttp2-proxy) in front of the simulator: HTTP/2 over TLS with ALPN, the
    simulator's own certificate; None when it is not installed."""
    import shutil
    import socket
    if shutil.which("nghttpx") is None:
        return None, None
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    sd = sim.ready["state_dir"]
    proc = subprocess.Popen(["nghttpx", "--conf=/dev/null", "-f127.0.0.1,%d" % port,
                             "-b127.0.0.1,%d;;tls;sni=localhost" % sim.port, "--cacert=" + sim.ready["ca"],
                             "--workers=1", "--no-ocsp", "--errorlog-file=/dev/null", "--accesslog-file=/dev/null",
                             os.path.join(sd, "server.key"), os.path.join(sd, "server.pem")])
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    return None, None


def run_json(cmd):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), out.stderr.decode(errors="replace")[-2000:]))
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def urls(sim, port=None):
    api, token = sim.ready["api_url"], sim.ready["token_url"]
    if port is not None:
        api = api.replace(":%d" % sim.port, ":%d" % port)
        token = token.replace(":%d" % sim.port, ":%d" % port)
    return api, token


def measure(sim, label, cmd, events):
    # The bench's own admin calls open connections too: health() counts itself, so the
    # difference of two health() calls with nothing else in between is the client's + 1.
    req0 = log_requests(sim)
    h0 = health(sim)
    cpu0 = proc_cpu(sim.proc.pid)
    out = run_json(cmd)
    cpu1 = proc_cpu(sim.proc.pid)
    h1 = health(sim)
    req1 = log_requests(sim)
    out.update(label=label, events=events, sim_cpu_s=cpu1 - cpu0, http_requests=req1 - req0,
               handshakes=h1["connections"] - h0["connections"] - 1, resumed=h1["tls_resumed"] - h0["tls_resumed"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--wan-units", type=int, default=50)
    ap.add_argument("--rtt-ms", type=float, default=100)
    ap.add_argument("--online", type=int, default=5)
    a = ap.parse_args()
    drain_exe = os.environ.get("WIRE_DRAIN", os.path.join(ROOT, "build", "tests", "bench", "wire_drain"))
    tmp = tempfile.mkdtemp(prefix="wire-bench-")
    sim = SimProcess()
    try:
        api, token = urls(sim)
        ca = sim.ready["ca"]
        results = []
        for r in range(a.rounds):
            for side in ("A", "B"):
                prefix = "W%s%d" % (side, r)
                if side == "A":
                    d = os.path.join(tmp, prefix)
                    os.makedirs(d)
                    cmd = [drain_exe, "--api", api, "--token", token, "--ca", ca, "--dir", d, "--prefix", prefix,
                           "--units", str(a.units)]
                else:
                    cmd = ["/usr/bin/python3", os.path.join(HERE, "quickstart_client.py"), "--api", api, "--token",
                           token, "--ca", ca, "--db", os.path.join(tmp, prefix + ".db"), "--prefix", prefix,
                           "--units", str(a.units)]
                results.append(measure(sim, side, cmd, a.units))
        print("backlog drain on loopback, %d units x 1 scan (3 intents), %d rounds A/B alternating" % (
            a.units, a.rounds))
        print("%-4s %9s %12s %12s %10s %12s" % ("", "events/s", "client ms/ev", "sim ms/ev", "req/event",
                                                 "TLS hs/event"))
        agg = {"A": [], "B": []}
        for res in results:
            ev = res["events"]
            row = (ev / res["seconds"], 1000 * res["cpu_s"] / ev, 1000 * res["sim_cpu_s"] / ev,
                   res["http_requests"] / ev, res["handshakes"] / ev)
            agg[res["label"]].append(row)
            print("%-4s %9.1f %12.3f %12.3f %10.3f %12.3f" % ((res["label"],) + row))
        mean = {k: [sum(x) / len(x) for x in zip(*v)] for k, v in agg.items()}
        print("ratio A/B: drain %.2f x, client CPU/event %.3f x, sim CPU/event %.3f x, requests/event %.3f x" % (
            mean["A"][0] / mean["B"][0], mean["A"][1] / mean["B"][1], mean["A"][2] / mean["B"][2],
            mean["A"][3] / mean["B"][3]))

        ngx, ngx_port = start_nghttpx(sim)
        if ngx is not None:
            hapi, htoken = urls(sim, ngx_port)
            d = os.path.join(tmp, "h2")
            os.makedirs(d)
            res = run_json([drain_exe, "--api", hapi, "--token", htoken, "--ca", ca, "--dir", d, "--prefix", "H2",
                            "--units", str(a.units)])
            print("A over HTTP/2 (nghttpx in front, ALPN h2): %.1f events/s, client %.3f ms CPU/event, "
                  "%.3f requests/event, %d connection(s) opened by the agent, done %d dead %d" % (
                      a.units / res["seconds"], 1000 * res["cpu_s"] / a.units, res["requests"] / a.units,
                      res["connections"], res["done"], res["dead"]))
        targets = [("HTTP/1.1", sim.port)] + ([("HTTP/2", ngx_port)] if ngx is not None else [])
        relays = []
        for proto, port in targets:
            relay = Relay(port, a.rtt_ms / 2000.0)
            relays.append(relay)
            wapi, wtoken = urls(sim, relay.port)
            d = os.path.join(tmp, "wan-" + proto.replace("/", ""))
            os.makedirs(d)
            res = run_json([drain_exe, "--api", wapi, "--token", wtoken, "--ca", ca, "--dir", d,
                            "--prefix", "WAN" + proto[-1], "--units", str(a.wan_units)])
            intents = res["intents"]
            print("WAN %s (relay, %.0f ms RTT), %d units: %.1f intents/s, %.3f TLS handshakes/intent (agent's "
                  "connections), %.3f requests/intent, done %d dead %d" % (
                      proto, a.rtt_ms, a.wan_units, intents / res["seconds"], res["connections"] / intents,
                      res["requests"] / intents, res["done"], res["dead"]))
        relay = relays[0]
        wapi, wtoken = urls(sim, relay.port)
        d = os.path.join(tmp, "online")
        os.makedirs(d)
        res = measure(sim, "A-online", [drain_exe, "--api", wapi, "--token", wtoken, "--ca", ca, "--dir", d,
                                        "--prefix", "ONL", "--online", str(a.online), "--gap-ms", "500"], a.online)
        lat = res["latency_ms"]
        print("online (relay, %.0f ms RTT): scan (3 intents) accepted -> applied: %s ms = %s round trips"
              " (the first includes the token and the TLS handshake)" % (
                  a.rtt_ms, ", ".join("%.0f" % x for x in lat), ", ".join("%.1f" % (x / a.rtt_ms) for x in lat)))
        for r in relays:
            r.stop()
        if ngx is not None:
            ngx.terminate()
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
