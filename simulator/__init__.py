"""A standalone SMM API v2 provider for the demo, the tests and the benchmarks.

It keeps its own in-memory state and never touches the panel's database. Run it with
``python manage.py simulate_provider --port 9100`` or in-process with :func:`run_simulator`.
"""

from .catalogue import SimService, generate_catalogue
from .knobs import Knobs
from .server import Simulator, run_simulator
from .state import SimOrder, SimRefill, SimState

__all__ = [
    "Knobs",
    "SimOrder",
    "SimRefill",
    "SimService",
    "SimState",
    "Simulator",
    "generate_catalogue",
    "run_simulator",
]
