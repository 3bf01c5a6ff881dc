"""`python -m services.tasks api|worker|all|migrate|rebuild`."""

import sys

from shared.runtime.service import main

from .bootstrap import bootstrap
from .settings import TasksSettings

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], service="tasks", settings=TasksSettings, bootstrap=bootstrap))
