from panel.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_floor.urls"
