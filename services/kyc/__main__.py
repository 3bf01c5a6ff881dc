"""`python -m services.kyc api|worker|all|migrate|rebuild`."""

import sys

from shared.runtime.service import main

from .bootstrap import bootstrap
from .settings import KycSettings

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], service="kyc", settings=KycSettings, bootstrap=bootstrap))
