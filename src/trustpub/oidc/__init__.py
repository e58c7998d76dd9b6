"""OIDC tokens and PyPI's trusted-publisher rules: one implementation for client and sandbox.

* :mod:`trustpub.oidc.claims`: decode a JWT without verifying it (:func:`decode_unverified`).
* :mod:`trustpub.oidc.publishers`: the :class:`Publisher` model and its parsers
  (``[tool.trustpub.publisher]``, ``--expect``, ``--publisher``), providers and issuers.
* :mod:`trustpub.oidc.rules`: Warehouse's matching algorithm (:func:`find_publisher`, used by
  the sandbox) and the client's per-field explanation (:func:`compare`); they share every
  per-provider check.
* :mod:`trustpub.oidc.diagnostics`: explanations for mint, audience and upload refusals.
* :mod:`trustpub.oidc.preflight`: offline findings about the CI environment and the token.
"""
