"""``python -m trustpub``."""

from trustpub.cli import main

if __name__ == "__main__":
    main()
