"""`python -m sqlflow_assets.local` is `sqlflow-local`."""

import sys

from sqlflow_assets.local.serve_cli import main

if __name__ == "__main__":
    sys.exit(main())
