import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from pages.models import Page

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase 42"


@pytest.fixture(autouse=True)
def _fresh_footer_cache() -> None:
    cache.clear()


def signup(client: Client, **extra: str) -> object:
    return client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD, **extra},
    )


def test_it_links_published_pages_and_support_from_the_footer(
    client: Client, customer: User
) -> None:
    Page.objects.create(kind="faq", title="FAQ", body="Q?\n\nA.")
    Page.objects.create(kind="terms", title="Terms", body="Be nice.", is_published=False)
    client.force_login(customer)

    page = client.get("/").content.decode()

    assert 'href="/faq/"' in page
    assert 'href="/terms/"' not in page
    assert 'href="/support/"' in page
    assert client.get("/faq/").status_code == 200
    assert client.get("/terms/").status_code == 404


def test_it_shows_the_russian_text_when_staff_wrote_one(client: Client) -> None:
    Page.objects.create(
        kind="contact", title="Contact", body="Write to us.", title_ru="Контакты", body_ru="Пишите."
    )

    english = client.get("/contact/").content.decode()
    russian = client.get("/contact/", headers={"accept-language": "ru"}).content.decode()

    assert "Write to us." in english
    assert "Пишите." in russian


def test_it_requires_accepting_the_terms_only_when_they_exist(client: Client) -> None:
    assert signup(client).status_code == 302
    client.logout()
    User.objects.filter(email="new@example.com").delete()
    Page.objects.create(kind="terms", title="Terms", body="Be nice.")
    cache.clear()

    refused = signup(client)

    assert refused.status_code == 200
    assert "Accept the terms of service to sign up." in refused.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()
    assert signup(client, accept_terms="on").status_code == 302
    assert User.objects.filter(email="new@example.com").exists()
