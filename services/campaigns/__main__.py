"""`python -m services.campaigns api|worker|all|migrate|rebuild`."""

import sys

from shared.runtime.service import main

from .bootstrap import bootstrap
from .settings import CampaignsSettings

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], service="campaigns", settings=CampaignsSettings, bootstrap=bootstrap))
