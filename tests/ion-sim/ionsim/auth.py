# SPDX-License-Identifier: Apache-2.0
"""Keycloak-style client-credentials tokens and ION's 401 answers (agent/ion/README.md §2).

Tokens are JWTs signed HS256 with a per-state-dir secret (ION's are RS256 from Keycloak; the
agent treats the token as opaque, so the algorithm does not matter, the shape does). The
checks and their messages follow ION's documented 401 table:
missing header -> "Please provide proper credentials"; not a JWT -> "Unable to parse
authentication token"; unknown key id / bad signature / other issuer -> "Unable to find
appropriate RSA key"; expired, expired by the admin, or client revoked -> "Unable to validate
authentication token". Thread-safety: callers hold the server's state lock.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

MSG_MISSING = "Please provide proper credentials"
MSG_PARSE = "Unable to parse authentication token"
MSG_KEY = "Unable to find appropriate RSA key"
MSG_INVALID = "Unable to validate authentication token"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_signing_key(path):
    """Reuses the key in `path` so a restarted sim still accepts its earlier tokens."""
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
        if len(data) >= 32:
            return data
    data = os.urandom(32)
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    return data


class AuthError(Exception):
    def __init__(self, message, outcome):
        super().__init__(message)
        self.message = message
        self.outcome = outcome  # short word for the request log


class TokenService:
    def __init__(self, key, issuer, ttl):
        self.key = key
        self.kid = hashlib.sha256(key).hexdigest()[:16]
        self.issuer = issuer
        self.ttl = ttl
        self.not_before = 0.0  # tokens issued before this instant are expired (admin)
        self.revoked = set()  # client ids whose keys are disabled

    def issue(self, client_id, user_id):
        now = int(time.time())
        header = {"alg": "HS256", "typ": "JWT", "kid": self.kid}
        claims = {
            "exp": now + int(self.ttl), "iat": now, "jti": str(uuid.uuid4()), "iss": self.issuer,
            "aud": "account", "sub": str(user_id), "typ": "Bearer", "azp": client_id,
            "clientId": client_id, "scope": "profile email", "iat_ns": time.time_ns(),
        }
        signing_input = _b64(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = hmac.new(self.key, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(sig), claims

    def expire_all(self):
        self.not_before = time.time_ns()

    @staticmethod
    def token_from_header(value):
        """Accepts `Bearer <t>`, `Token <t>` and a bare token, as ION does."""
        if value is None or not value.strip():
            raise AuthError(MSG_MISSING, "missing")
        value = value.strip()
        if value.lower() in ("bearer", "token"):
            raise AuthError(MSG_MISSING, "missing")  # a scheme with no token
        scheme, _, rest = value.partition(" ")
        if rest and scheme.lower() in ("bearer", "token"):
            return rest.strip()
        return value

    def verify(self, header_value):
        """Returns the token's claims or raises AuthError with ION's message."""
        token = self.token_from_header(header_value)
        parts = token.split(".")
        if len(parts) != 3:
            raise AuthError(MSG_PARSE, "malformed")
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
            sig = _unb64(parts[2])
        except (ValueError, TypeError):
            raise AuthError(MSG_PARSE, "malformed")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise AuthError(MSG_PARSE, "malformed")
        expected = hmac.new(self.key, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
        if header.get("kid") != self.kid or not hmac.compare_digest(sig, expected):
            raise AuthError(MSG_KEY, "unknown-key")
        if claims.get("iss") != self.issuer:
            raise AuthError(MSG_KEY, "wrong-issuer")
        if claims.get("exp", 0) <= time.time() or claims.get("iat_ns", 0) < self.not_before:
            raise AuthError(MSG_INVALID, "expired")
        if claims.get("azp") in self.revoked:
            raise AuthError(MSG_INVALID, "revoked")
        return claims
