"""`python -m services.assignment api|worker|all|migrate|rebuild`."""

import sys

from shared.runtime.service import main

from .bootstrap import bootstrap
from .settings import AssignmentSettings

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], service="assignment", settings=AssignmentSettings, bootstrap=bootstrap))
