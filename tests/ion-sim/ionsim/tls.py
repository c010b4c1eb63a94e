# SPDX-License-Identifier: Apache-2.0
"""Test CA and server certificate, made with the `openssl` CLI (EC P-256: fast to generate).

The CA is reused when the state dir already holds one, so a restarted simulator presents a
chain the agent already trusts. The server certificate is re-issued on every start with SANs
IP:127.0.0.1, DNS:localhost and the bind address. Failure raises TlsError naming the step.
"""

import ipaddress
import os
import subprocess


class TlsError(Exception):
    pass


def _openssl(args, where):
    proc = subprocess.run(["openssl"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise TlsError("tls: %s: openssl failed: %s" % (where, proc.stderr.decode(errors="replace").strip()))


def _san(bind, extra):
    names = ["IP:127.0.0.1", "DNS:localhost"]
    for host in [bind] + list(extra or []):
        if not host or host in ("0.0.0.0", "::", "127.0.0.1", "localhost"):
            continue
        try:
            ipaddress.ip_address(host)
            names.append("IP:" + host)
        except ValueError:
            names.append("DNS:" + host)
    return ",".join(names)


def ensure_ca(state_dir):
    ca_pem = os.path.join(state_dir, "ca.pem")
    ca_key = os.path.join(state_dir, "ca.key")
    if os.path.exists(ca_pem) and os.path.exists(ca_key):
        return ca_pem, ca_key
    _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", ca_key, "-out", ca_pem, "-days", "3650", "-sha256",
              "-subj", "/O=ion-agent tests/CN=ion-sim test CA",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], "make CA")
    return ca_pem, ca_key


def make_server_cert(state_dir, bind, extra_names=()):
    ca_pem, ca_key = ensure_ca(state_dir)
    key = os.path.join(state_dir, "server.key")
    csr = os.path.join(state_dir, "server.csr")
    pem = os.path.join(state_dir, "server.pem")
    ext = os.path.join(state_dir, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % _san(bind, extra_names))
    _openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", key, "-out", csr, "-subj", "/CN=localhost"], "make server key")
    _openssl(["x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial",
              str(int.from_bytes(os.urandom(8), "big")), "-out", pem, "-days", "825", "-sha256",
              "-extfile", ext], "sign server certificate")
    return ca_pem, pem, key
