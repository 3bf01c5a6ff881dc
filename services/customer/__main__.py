"""`python -m services.customer api|worker|all|migrate|rebuild`."""

import sys

from shared.runtime.service import main

from .bootstrap import bootstrap
from .settings import CustomerSettings

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], service="customer", settings=CustomerSettings, bootstrap=bootstrap))
