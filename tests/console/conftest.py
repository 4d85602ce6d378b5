import pytest

from accounts.models import User
from tests.console.seed import Seed, seed_console
from tests.factories import UserFactory


@pytest.fixture
def seed(db: None) -> Seed:
    return seed_console()


@pytest.fixture
def staff_admin(db: None) -> User:
    return UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
