"""``python -m trustpub``."""

from trustpub.cli import run

if __name__ == "__main__":
    run()
