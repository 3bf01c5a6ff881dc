"""`python -m services.access api|worker|all|migrate|rebuild`."""

import sys

from shared.runtime.service import main

from .bootstrap import bootstrap
from .settings import AccessSettings

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], service="access", settings=AccessSettings, bootstrap=bootstrap))
