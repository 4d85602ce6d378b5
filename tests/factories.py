from decimal import Decimal

import factory

from accounts.models import User
from catalog.models import Category, Provider, Service


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Provider {n}")
    api_url = "http://127.0.0.1:9/api/v2"
    api_key = "test-key"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    provider = factory.SubFactory(ProviderFactory)
    category = factory.SubFactory(CategoryFactory)
    upstream_id = factory.Sequence(lambda n: str(1000 + n))
    upstream_name = factory.Sequence(lambda n: f"Instagram Followers {n}")
    name = factory.SelfAttribute("upstream_name")
    upstream_rate = Decimal("1.00000")
    rate = Decimal("1.30000")
    type = "Default"
    min_quantity = 10
    max_quantity = 10000
    is_enabled = True
