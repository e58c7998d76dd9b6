"""The client's upload half: discovery (``discover``), validation (``validate``), hashing
(``digests``), streamed multipart bodies (``multipart``), existing-file lookup (``lookup``) and
the concurrent uploader (``uploader``). Import from the submodules."""
