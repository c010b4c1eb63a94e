# SPDX-License-Identifier: Apache-2.0
"""Object storage behind file attachments: a stand-in for S3 and its presigned URLs.

createFileAttachment (flow A) and requestFileUploadUrl (flow B) hand out an upload URL on the
simulator's own HTTPS server, `<api_url>/storage/<bucket>/<key>?X-Sim-Token=<token>`. Like a
presigned S3 PUT URL it is single-use here, expires (`upload_url_ttl` seconds, /_sim/config;
POST /_sim/storage/expire expires every outstanding URL at once) and is bound to the
Content-Type it was signed for. Refusals answer S3-style XML with 403: AccessDenied (unknown
or used token), "Request has expired", SignatureDoesNotMatch (another Content-Type or key).
A good PUT stores the bytes (in memory), answers 200 with an `ETag` (MD5, quoted, as S3), and
fills the attachment's `size` (and, sim-only, `sha256`). GET on the same path (no token: the
sim's `downloadUrl`) returns the bytes.

Thread-safety: callers hold the Sim lock.
"""

import hashlib
import secrets
import time
import urllib.parse

BUCKET = "ion-sim-attachments"


class Storage:
    def __init__(self):
        self.blobs = {}   # key -> bytes
        self.urls = {}    # token -> {"key", "content_type", "expires", "used", "attachment_id"}

    def presign(self, base_url, key, content_type, ttl, attachment_id=None):
        token = secrets.token_hex(16)
        self.urls[token] = {"key": key, "content_type": content_type, "expires": time.time() + ttl,
                            "used": False, "attachment_id": attachment_id}
        return "%s/storage/%s/%s?X-Sim-Token=%s" % (base_url, BUCKET, urllib.parse.quote(key), token)

    def expire_all(self):
        for u in self.urls.values():
            u["expires"] = 0

    def check(self, token, key, content_type):
        """None if a PUT with these may store, else (status, code, message)."""
        u = self.urls.get(token)
        if u is None or u["used"]:
            return 403, "AccessDenied", "Access Denied" if u is None else "Access Denied (this URL was used already)"
        if time.time() >= u["expires"]:
            return 403, "AccessDenied", "Request has expired"
        if u["key"] != key or (content_type or "") != u["content_type"]:
            return 403, "SignatureDoesNotMatch", ("The request signature we calculated does not match the signature "
                                                  "you provided (signed for Content-Type %s)" % u["content_type"])
        return None

    def put(self, token, data):
        """Stores the bytes of an accepted PUT; returns (url record, etag)."""
        u = self.urls[token]
        u["used"] = True
        self.blobs[u["key"]] = data
        return u, '"%s"' % hashlib.md5(data).hexdigest()


def parse_path(path):
    """(key) of /storage/<bucket>/<key>, or None."""
    prefix = "/storage/%s/" % BUCKET
    if not path.startswith(prefix):
        return None
    return urllib.parse.unquote(path[len(prefix):])


def xml_error(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>'
            % (code, message)).encode()


def describe_blob(data):
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
