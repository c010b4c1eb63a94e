# SPDX-License-Identifier: Apache-2.0
"""Command line: parse options, prepare the state dir (CA, server cert, signing key), listen,
write the ready file, serve until SIGTERM/SIGINT. Exit codes: 0 clean stop, 2 bad usage or
fixture, 3 TLS setup failed, 4 cannot listen."""

import argparse
import json
import os
import shutil
import signal
import ssl
import sys
import tempfile
import threading

from . import auth, tls
from .server import SimHTTPServer
from .sim import Config, Sim
from .store import FixtureError

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1 second, got %s" % text)
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(prog="ion-sim", description="ION (First Resonance) API simulator for tests")
    p.add_argument("--port", type=int, default=0, help="listen port (0 = any free port)")
    p.add_argument("--bind", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--ready-file", help="write {port, ca, api_url, token_url, ...} here once listening")
    p.add_argument("--fixture", default=os.path.join(HERE, "fixtures", "factory.json"))
    p.add_argument("--schema", default=os.path.join(HERE, "schema.graphql"))
    p.add_argument("--token-ttl", type=_positive_int, default=300, help="token lifetime in seconds (default 300)")
    p.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    p.add_argument("--state-dir", help="CA, server cert and signing key live here (reused if present)")
    p.add_argument("--san", action="append", default=[], help="extra DNS name or IP for the server cert")
    p.add_argument("--etag-conflict-status", type=int, choices=(200, 409), default=200)
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return p.parse_args(argv)


def write_ready(path, info):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(info, f)
        f.write("\n")
    os.replace(tmp, path)  # readers never see a half-written file


def load_fixture(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise FixtureError("fixture: %s: %s" % (path, e))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    made_dir = args.state_dir is None
    state_dir = args.state_dir or tempfile.mkdtemp(prefix="ion-sim-")
    os.makedirs(state_dir, exist_ok=True)
    try:
        return run(args, state_dir)
    finally:
        if args.ready_file:
            try:
                os.unlink(args.ready_file)
            except OSError:
                pass
        if made_dir:
            shutil.rmtree(state_dir, ignore_errors=True)


def run(args, state_dir):
    try:
        fixture = load_fixture(args.fixture)
        with open(args.schema) as f:
            sdl = f.read()
    except (FixtureError, OSError) as e:
        print("ion-sim: %s" % e, file=sys.stderr)
        return 2
    ctx, ca = None, None
    if not args.http:
        try:
            ca, cert, key = tls.make_server_cert(state_dir, args.bind, args.san)
        except tls.TlsError as e:
            print("ion-sim: %s" % e, file=sys.stderr)
            return 3
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
    host = "127.0.0.1" if args.bind in ("0.0.0.0", "::") else args.bind
    scheme = "http" if args.http else "https"
    config = Config(token_ttl=args.token_ttl, etag_conflict_status=args.etag_conflict_status)
    signing_key = auth.load_signing_key(os.path.join(state_dir, "signing.key"))
    try:
        # The issuer needs the port, which is known only after bind: patched below.
        sim = Sim(sdl, fixture, signing_key, "", config)
        server = SimHTTPServer((args.bind, args.port), sim, ctx, args.verbose)
    except FixtureError as e:
        print("ion-sim: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("ion-sim: listen on %s:%d: %s" % (args.bind, args.port, e), file=sys.stderr)
        return 4
    port = server.server_address[1]
    # ION_SIM_URL_HOST: the name the advertised URLs use instead of the address (the server
    # certificate also names DNS:localhost). Mbed TLS 2.28 cannot match an IP address against
    # a certificate, so the embedded build's tests reach the simulator as localhost (HTTPS only).
    if not args.http:
        host = os.environ.get("ION_SIM_URL_HOST") or host
    url_host = "[%s]" % host if ":" in host else host
    api_url = "%s://%s:%d" % (scheme, url_host, port)
    sim.tokens.issuer = api_url + "/realms/api-keys"
    sim.base_url = api_url
    info = {"port": port, "ca": ca, "api_url": api_url,
            "token_url": api_url + "/realms/api-keys/protocol/openid-connect/token",
            "graphql_url": api_url + "/graphql", "admin_url": api_url + "/_sim",
            "pid": os.getpid(), "state_dir": state_dir, "scheme": scheme}
    stop = threading.Event()

    def on_signal(signum, frame):
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.ready_file:
        try:
            write_ready(args.ready_file, info)
        except OSError as e:
            print("ion-sim: write ready file %s: %s" % (args.ready_file, e), file=sys.stderr)
            server.server_close()
            return 2
    print("ion-sim: listening on %s (ca %s)" % (api_url, ca), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0
