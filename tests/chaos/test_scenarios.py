from chaos.scenarios.faults import garbage_status_sync, provider_faults
from chaos.scenarios.money import concurrent_adds
from chaos.world import World


def test_it_accepts_exactly_what_the_balance_covers_under_concurrent_adds(world: World) -> None:
    # At most 8 at once: the live server's listen backlog is 10 (Django's WSGIServer), and a
    # burst beyond it is reset by the kernel before any request is read (`make chaos` runs
    # the full 200 against gunicorn).
    result = concurrent_adds(world, requests=8, affordable=3)

    assert result.problems == [], result.figures
    assert result.passed


def test_it_loses_and_duplicates_nothing_under_provider_faults(world: World) -> None:
    result = provider_faults(world, per_fault=2, mixed=8)

    assert result.problems == [], result.figures
    assert result.passed


def test_it_survives_garbage_from_status_sync(world: World) -> None:
    # 32 orders: enough for every kind of impossible number (Partial and Completed).
    result = garbage_status_sync(world, orders=32, rounds=3)

    assert result.problems == [], result.figures
    assert result.passed
