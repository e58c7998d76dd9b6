"""The sandbox: a local imitation of PyPI's trusted-publishing and upload endpoints.

Server-side dependencies (starlette, uvicorn, PyJWT, cryptography) come from the
``sandbox`` extra and are imported only by the modules that serve.
"""
