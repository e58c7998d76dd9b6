"""trustpub: publish Python packages with Trusted Publishing."""

__version__ = "0.1.0"

__all__ = ["__version__"]
