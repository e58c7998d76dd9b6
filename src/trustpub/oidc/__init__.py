"""OIDC tokens and PyPI's trusted-publisher rules: one implementation for client and sandbox.

* :mod:`trustpub.oidc.claims`: decode a JWT without verifying it (:func:`decode_unverified`).
* :mod:`trustpub.oidc.publishers`: the :class:`Publisher` model and its parsers
  (``[tool.trustpub.publisher]``, ``--expect``, ``--publisher``), providers and issuers.
* :mod:`trustpub.oidc.rules`: Warehouse's matching algorithm (:func:`find_publisher`, used by
  the sandbox) and the client's per-field explanation (:func:`compare`); they share every
  per-provider check.
* :mod:`trustpub.oidc.validity`: the one set of token-validity rules (required claims, audience,
  expiry and not-before with PyPI's leeway, the client's send margin), used by the exchange,
  preflight, diagnostics and the sandbox's verifier.
* :mod:`trustpub.oidc.diagnostics`: explanations for mint, audience and upload refusals.

Preflight findings (what a CI job or a token will get refused for) are worded by each provider
module; :func:`trustpub.providers.preflight` gathers them.
"""
