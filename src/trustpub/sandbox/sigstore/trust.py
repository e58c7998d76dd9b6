"""The client trust configuration of a sandbox's Sigstore.

sigstore-python reads it with ``ClientTrustConfig.from_json``: media type
``application/vnd.dev.sigstore.clienttrustconfig.v0.1+json``, a trusted root
v0.1 (the CA's certificate, the transparency log's and the CT log's keys) and a
signing config v0.2 (where the CA and the log listen). URLs change with the
sandbox's port, keys do not: the file is rewritten at every start.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from trustpub.sandbox.sigstore.keys import ORGANIZATION, SigstoreKeys, key_id, public_der

MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
OPERATOR = "trustpub-sandbox"
FILE_NAME = "trust_config.json"
REKOR_PATH = "/_sandbox/rekor"


def trust_config_path(state_dir: Path) -> Path:
    """Where a sandbox keeps its client trust configuration."""
    return state_dir / "sigstore" / FILE_NAME


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _log_instance(base_url: str, key: Any, start: str) -> dict[str, Any]:
    public = key.public_key()
    return {
        "baseUrl": base_url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": _b64(public_der(public)),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": start},
        },
        "logId": {"keyId": _b64(key_id(public))},
    }


def trust_config(keys: SigstoreKeys, base_url: str) -> dict[str, Any]:
    """The client trust configuration for the sandbox at ``base_url``."""
    start = keys.root.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    rekor_url = base_url + REKOR_PATH
    root_der = keys.root.public_bytes(serialization.Encoding.DER)
    trusted_root = {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [_log_instance(rekor_url, keys.rekor_key, start)],
        "certificateAuthorities": [
            {
                "subject": {"organization": ORGANIZATION, "commonName": "trustpub sandbox fulcio"},
                "uri": base_url,
                "certChain": {"certificates": [{"rawBytes": _b64(root_der)}]},
                "validFor": {"start": start},
            }
        ],
        "ctlogs": [_log_instance(base_url + "/_sandbox/ctlog", keys.ctlog_key, start)],
        "timestampAuthorities": [],
    }

    def service(url: str) -> dict[str, Any]:
        return {
            "url": url,
            "majorApiVersion": 1,
            "validFor": {"start": start},
            "operator": OPERATOR,
        }

    signing_config = {
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [service(base_url)],
        "oidcUrls": [],
        "rekorTlogUrls": [service(rekor_url)],
        "tsaUrls": [],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaConfig": {"selector": "ANY"},
    }
    return {"mediaType": MEDIA_TYPE, "trustedRoot": trusted_root, "signingConfig": signing_config}


def write_trust_config(keys: SigstoreKeys, base_url: str, state_dir: Path) -> Path:
    """Write the trust configuration (atomically) and return its path."""
    path = trust_config_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(trust_config(keys, base_url), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = ["MEDIA_TYPE", "REKOR_PATH", "trust_config", "trust_config_path", "write_trust_config"]
