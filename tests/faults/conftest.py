# The fault scenarios use the end-to-end fixture that runs the three services as processes.
from tests.e2e.conftest import services  # noqa: F401
