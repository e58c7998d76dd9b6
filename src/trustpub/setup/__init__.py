"""Set-up time: read a repository, write its release pipeline (``init``), check it (``check``).

Core code only: nothing here prints. ``trustpub.cli.init`` and ``trustpub.cli.check``
render what these modules return.
"""
