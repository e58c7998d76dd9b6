"""A local imitation of Sigstore's public-good services, for the sandbox.

* ``keys.py``: the sandbox's certificate authority (a self-signed root), its
  certificate-transparency log key and its transparency-log key, generated once
  into ``<state_dir>/sigstore/`` and reused on the next start;
* ``fulcio.py``: ``POST /api/v2/signingCert`` in the manner of Fulcio: checks an
  OIDC token of one of the sandbox's issuers (audience ``sigstore``) and issues
  a ten-minute code-signing certificate with the identity, Fulcio's OID
  extensions and an embedded SCT;
* ``rekor.py``: ``/_sandbox/rekor/api/v1/log/entries`` in the manner of Rekor v1:
  hashedrekord and DSSE entries in an RFC 6962 Merkle tree, inclusion proofs with
  signed checkpoints and signed entry timestamps;
* ``trust.py``: the client trust configuration (trusted root + signing config)
  that sigstore-python signs and verifies with, written into the state dir.

The sandbox's trust root is never used for a real index: nothing outside the
sandbox trusts these keys.
"""

from __future__ import annotations
