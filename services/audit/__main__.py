"""`python -m services.audit api|worker|all|migrate|rebuild`."""

import sys

from shared.runtime.service import main

from .bootstrap import bootstrap
from .settings import AuditSettings

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], service="audit", settings=AuditSettings, bootstrap=bootstrap))
