from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection

from accounts.models import LedgerEntry, User
from accounts.services import balance_credit
from orders.services.dispatch import forget_wake_flags
from orders.services.validation import forget_catalogue
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Autouse, so it applies before the user fixtures hash their passwords (PBKDF2 ≈ 0.5 s each).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Rate-limit counters and locks live in the (shared, real Redis) cache.
    cache.clear()


@pytest.fixture(autouse=True)
def _forget_catalogue() -> None:
    # Placement remembers service rows and rates for a few seconds per process, and the
    # providers' wake flags it saw up for a moment.
    forget_catalogue()
    forget_wake_flags()


@pytest.fixture
def requires_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks and real concurrency)")


def fund(user: User, amount: str) -> None:
    balance_credit(user=user, amount=Decimal(amount), kind=LedgerEntry.Kind.DEPOSIT)
    user.refresh_from_db()


@pytest.fixture
def customer(db: None) -> User:
    user = UserFactory(email="customer@example.com")
    fund(user, "100.00")
    return user


@pytest.fixture
def reseller(db: None) -> User:
    user = UserFactory(email="reseller@example.com", role=User.Role.RESELLER)
    fund(user, "500.00")
    return user


@pytest.fixture
def other_user(db: None) -> User:
    user = UserFactory(email="other@example.com")
    fund(user, "50.00")
    return user
