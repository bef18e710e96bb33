"""``python -m guard``: the same command line as the ``guard`` script."""

from guard.cli import main

if __name__ == "__main__":
    main()
