"""`python -m services.usercrm api|worker|all|migrate|rebuild`."""

import sys

from shared.runtime.service import main

from .bootstrap import bootstrap
from .settings import UsercrmSettings

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], service="usercrm", settings=UsercrmSettings, bootstrap=bootstrap))
