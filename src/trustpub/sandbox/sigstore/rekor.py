"""The sandbox's transparency log, in the manner of Rekor v1.

Entries (``hashedrekord`` and ``dsse``, API version 0.0.1) are checked as
Rekor checks them (the signature verifies with the certificate's key), stored
as canonical JSON bodies (RFC 8785) and appended as leaves of an RFC 6962
Merkle tree. The answer to ``POST .../api/v1/log/entries`` carries what
sigstore-python requires of a v1 entry: an inclusion proof (audit path,
root hash, tree size) with a checkpoint signed in the signed-note format, and
a signed entry timestamp over ``{body, integratedTime, logID, logIndex}``.

Leaves are appended to ``<state_dir>/sigstore/rekor-leaves`` so the tree keeps
growing across restarts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from trustpub.sandbox.refusal import Refusal
from trustpub.sandbox.sigstore.keys import SigstoreKeys

CHECKPOINT_SIGNER = "trustpub-sandbox-rekor"


class RekorRefusal(Refusal):
    """The log refuses the proposed entry (status and Rekor-like message)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (RFC 6962's k)."""
    return 1 << ((size - 1).bit_length() - 1)


def tree_hash(leaves: list[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of the leaf hashes ``leaves``."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node_hash(tree_hash(leaves[:k]), tree_hash(leaves[k:]))


def audit_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 inclusion proof for leaf ``index``, lowest level first."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*audit_path(index, leaves[:k]), tree_hash(leaves[k:])]
    return [*audit_path(index - k, leaves[k:]), tree_hash(leaves[:k])]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise RekorRefusal(400, f"{what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise RekorRefusal(400, f"{what} is not base64") from None


def _certificate(b64_pem: object) -> x509.Certificate:
    pem = _b64decode(b64_pem, "the verifier")
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise RekorRefusal(400, "the verifier is not a PEM certificate") from None


def _ec_public(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise RekorRefusal(400, "only ECDSA verifiers are supported by the sandbox")
    return key


def _spec(body: Any, kind: str) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("kind") != kind:
        raise RekorRefusal(400, "unsupported entry kind")
    if body.get("apiVersion") != "0.0.1":
        raise RekorRefusal(400, f"unsupported {kind} version")
    spec = body.get("spec")
    if not isinstance(spec, dict):
        raise RekorRefusal(400, "the entry has no spec")
    return spec


def hashedrekord_body(proposed: Any) -> dict[str, Any]:
    """The canonical body of a ``hashedrekord`` 0.0.1 entry, after checking its signature."""
    spec = _spec(proposed, "hashedrekord")
    try:
        signature = _b64decode(spec["signature"]["content"], "the signature")
        pem = spec["signature"]["publicKey"]["content"]
        algorithm = spec["data"]["hash"]["algorithm"]
        digest_hex = spec["data"]["hash"]["value"]
    except (KeyError, TypeError):
        raise RekorRefusal(400, "the hashedrekord entry is incomplete") from None
    if algorithm != "sha256" or not isinstance(digest_hex, str):
        raise RekorRefusal(400, "only sha256 digests are supported by the sandbox")
    try:
        digest = bytes.fromhex(digest_hex)
        _ec_public(_certificate(pem)).verify(
            signature, digest, ec.ECDSA(Prehashed(hashes.SHA256()))
        )
    except (ValueError, InvalidSignature):
        raise RekorRefusal(
            400, "verifying signature: invalid signature when validating ASN.1 encoded signature"
        ) from None
    return {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest_hex}},
            "signature": {"content": _b64(signature), "publicKey": {"content": pem}},
        },
    }


def _pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def dsse_body(proposed: Any) -> dict[str, Any]:
    """The canonical body of a ``dsse`` 0.0.1 entry, after checking every signature."""
    spec = _spec(proposed, "dsse")
    content = spec.get("proposedContent")
    if not isinstance(content, dict) or not isinstance(content.get("envelope"), str):
        raise RekorRefusal(400, "the dsse entry has no proposed envelope")
    verifiers = content.get("verifiers")
    if not isinstance(verifiers, list) or not verifiers:
        raise RekorRefusal(400, "the dsse entry names no verifiers")
    try:
        envelope = json.loads(content["envelope"])
        payload = _b64decode(envelope["payload"], "the payload")
        pae = _pae(str(envelope["payloadType"]), payload)
        raw_signatures = [_b64decode(s["sig"], "a signature") for s in envelope["signatures"]]
    except (ValueError, KeyError, TypeError):
        raise RekorRefusal(400, "the envelope is not a DSSE envelope") from None
    keys = [(v, _ec_public(_certificate(v))) for v in verifiers]
    signatures = []
    for raw in raw_signatures:
        for pem, key in keys:
            try:
                key.verify(raw, pae, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                continue
            signatures.append({"signature": _b64(raw), "verifier": pem})
            break
        else:
            raise RekorRefusal(400, "could not verify envelope signature")
    return {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {
                "algorithm": "sha256",
                "value": hashlib.sha256(content["envelope"].encode()).hexdigest(),
            },
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": signatures,
        },
    }


@dataclass
class RekorLog:
    """One append-only log: its leaves, its key and its identity."""

    keys: SigstoreKeys
    folder: Path
    host: str

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._leaves: list[bytes] = []
        self._bodies_path = self.folder / "rekor-leaves"
        tree_file = self.folder / "rekor-tree-id"
        if not tree_file.exists():
            tree_file.write_text(str(secrets.randbelow(2**62)), encoding="ascii")
        self.tree_id = tree_file.read_text(encoding="ascii").strip()
        if self._bodies_path.exists():
            for line in self._bodies_path.read_text(encoding="ascii").split():
                self._leaves.append(leaf_hash(base64.b64decode(line)))

    @property
    def origin(self) -> str:
        return f"{self.host} - {self.tree_id}"

    def _checkpoint(self, size: int, root: bytes) -> str:
        note = f"{self.origin}\n{size}\n{_b64(root)}\n"
        signature = self.keys.rekor_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        stamp = _b64(self.keys.rekor_log_id[:4] + signature)
        return f"{note}\n\u2014 {CHECKPOINT_SIGNER} {stamp}\n"

    def append(self, proposed: Any, now: float) -> dict[str, Any]:
        """Log a proposed entry; the v1 ``{uuid: entry}`` answer."""
        kind = proposed.get("kind") if isinstance(proposed, dict) else None
        if kind == "hashedrekord":
            body = hashedrekord_body(proposed)
        elif kind == "dsse":
            body = dsse_body(proposed)
        else:
            raise RekorRefusal(400, "the sandbox log accepts hashedrekord and dsse entries")
        canonical = rfc8785.dumps(body)
        with self._lock:
            index = len(self._leaves)
            leaf = leaf_hash(canonical)
            self._leaves.append(leaf)
            with self._bodies_path.open("a", encoding="ascii") as handle:
                handle.write(_b64(canonical) + "\n")
            leaves = list(self._leaves)
        return {leaf.hex(): self._entry(canonical, index, leaves, int(now))}

    def _entry(self, canonical: bytes, index: int, leaves: list[bytes], now: int) -> dict[str, Any]:
        log_id = self.keys.rekor_log_id.hex()
        root = tree_hash(leaves)
        promise = rfc8785.dumps(
            {"body": _b64(canonical), "integratedTime": now, "logID": log_id, "logIndex": index}
        )
        set_signature = self.keys.rekor_key.sign(promise, ec.ECDSA(hashes.SHA256()))
        return {
            "body": _b64(canonical),
            "integratedTime": now,
            "logID": log_id,
            "logIndex": index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": self._checkpoint(len(leaves), root),
                    "hashes": [h.hex() for h in audit_path(index, leaves)],
                    "logIndex": index,
                    "rootHash": root.hex(),
                    "treeSize": len(leaves),
                },
                "signedEntryTimestamp": _b64(set_signature),
            },
        }

    def info(self) -> dict[str, Any]:
        """``GET /api/v1/log``: the current tree head."""
        with self._lock:
            leaves = list(self._leaves)
        root = tree_hash(leaves)
        return {
            "rootHash": root.hex(),
            "treeSize": len(leaves),
            "signedTreeHead": self._checkpoint(len(leaves), root),
            "treeID": self.tree_id,
        }


__all__ = ["RekorLog", "RekorRefusal", "audit_path", "leaf_hash", "tree_hash"]
