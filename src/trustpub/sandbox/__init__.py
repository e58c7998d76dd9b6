"""The sandbox: a local imitation of PyPI's trusted-publishing and upload endpoints.

Server-side dependencies (starlette, uvicorn, PyJWT, cryptography) come from the
``sandbox`` extra and are imported only by the modules that serve.
"""

SIMULATED_JOB_ENV = "TRUSTPUB_SANDBOX_JOB"
"""Set in a simulated job's environment (``sandbox env``, the demo); the CLI reads it. Here,
not in ``jobs``, so that reading it costs the CLI no import of the job machinery."""
