"""Root conftest: the shared fixtures live in tests/portal_testing.py."""

pytest_plugins = ["portal_testing", "portal_signing"]
