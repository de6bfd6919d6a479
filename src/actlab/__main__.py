"""``python -m actlab``: the command line."""

import sys

from actlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
