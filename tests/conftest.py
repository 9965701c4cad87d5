"""Root conftest: the shared fixtures live in tests/portal_testing.py."""

import os

# The job tests start real workers while the other test processes keep both cores busy: at
# the production niceness (10) a worker would get a tenth of a core and its jobs time out.
# tests/topology starts its workers as docker-compose does (its environment drops PORTAL_*)
# and checks that niceness there.
os.environ.setdefault("PORTAL_WORKER_NICE", "0")

pytest_plugins = ["portal_testing", "portal_signing"]
