"""The provider admin's "Refresh balance" and "Sync now": a GET asks, the POST calls the provider.

The theme renders both as plain links, so a GET that acted would let any page a staff member
opens (a link, an <img>) call a provider on their behalf.
"""

from collections import Counter

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import User
from catalog.models import Provider
from simulator import Simulator
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# (url name, the simulator action it calls)
ACTIONS = [
    ("admin:catalog_provider_refresh_balance", "balance"),
    ("admin:catalog_provider_sync_catalogue", "services"),
]


@pytest.fixture
def staff(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def calls(sim: Simulator) -> Counter[str]:
    return sim.state.counts


def changelist() -> str:
    return reverse("admin:catalog_provider_changelist")


def change_page(provider: Provider) -> str:
    return reverse("admin:catalog_provider_change", args=[provider.pk])


@pytest.mark.parametrize(("name", "sim_action"), ACTIONS)
def test_it_only_asks_on_get(
    staff: Client, provider: Provider, sim: Simulator, name: str, sim_action: str
) -> None:
    before = calls(sim)
    response = staff.get(reverse(name, args=[provider.pk]))

    assert response.status_code == 200
    assert calls(sim) == before
    assert "admin/catalog/provider/action_confirm.html" in [t.name for t in response.templates]
    body = response.content.decode()
    assert f"“{provider.name}”" in body
    assert 'method="post"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert f'href="{changelist()}"' in body  # the cancel link
    assert f'name="back" value="{changelist()}"' in body
    assert list(get_messages(response.wsgi_request)) == []


def test_it_explains_each_action(staff: Client, provider: Provider) -> None:
    balance = staff.get(reverse("admin:catalog_provider_refresh_balance", args=[provider.pk]))
    sync = staff.get(reverse("admin:catalog_provider_sync_catalogue", args=[provider.pk]))

    assert str(balance.context["question"]) == "Refresh the balance of “Sim”?"
    assert "asks the provider for its balance" in str(balance.context["explanation"])
    assert str(sync.context["question"]) == "Sync the catalogue of “Sim” now?"
    assert "downloads the provider's service list" in str(sync.context["explanation"])


def test_it_refreshes_the_balance_on_post(
    staff: Client, provider: Provider, sim: Simulator
) -> None:
    before = calls(sim)
    response = staff.post(reverse("admin:catalog_provider_refresh_balance", args=[provider.pk]))

    assert response.status_code == 302
    assert response["Location"] == changelist()
    assert calls(sim) - before == Counter({"balance": 1})
    provider.refresh_from_db()
    assert provider.balance is not None
    assert provider.balance_checked_at is not None
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [f"Connected. Balance: {provider.balance} USD."]


def test_it_syncs_the_catalogue_on_post(staff: Client, provider: Provider, sim: Simulator) -> None:
    before = calls(sim)
    response = staff.post(reverse("admin:catalog_provider_sync_catalogue", args=[provider.pk]))

    assert response.status_code == 302
    assert response["Location"] == changelist()
    assert calls(sim) - before == Counter({"services": 1})
    assert provider.services.count() == 50
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(messages) == 1
    assert messages[0].startswith("Catalogue synced. received: 50, ")


def test_it_goes_back_to_the_provider_page_it_was_opened_from(
    staff: Client, provider: Provider
) -> None:
    url = reverse("admin:catalog_provider_refresh_balance", args=[provider.pk])
    page = staff.get(url, headers={"referer": "http://testserver" + change_page(provider)})
    body = page.content.decode()
    assert f'href="{change_page(provider)}"' in body
    assert f'name="back" value="{change_page(provider)}"' in body

    # The POST's referer is the confirmation page itself: the hidden field says where to go.
    done = staff.post(url, {"back": change_page(provider)}, headers={"referer": url})
    assert done["Location"] == change_page(provider)


def test_it_never_redirects_off_the_admin(staff: Client, provider: Provider) -> None:
    url = reverse("admin:catalog_provider_refresh_balance", args=[provider.pk])
    done = staff.post(url, {"back": f"https://evil.example/{provider.pk}/change/"})
    assert done["Location"] == change_page(provider)
    done = staff.post(url, {"back": "https://evil.example/"})
    assert done["Location"] == changelist()


@pytest.mark.parametrize(("name", "sim_action"), ACTIONS)
def test_it_refuses_a_post_without_the_csrf_token(
    admin_user: User, provider: Provider, sim: Simulator, name: str, sim_action: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    url = reverse(name, args=[provider.pk])
    before = calls(sim)

    assert client.post(url).status_code == 403
    assert calls(sim) == before

    # The token the confirmation page carries is accepted.
    token = client.get(url).context["csrf_token"]
    assert client.post(url, {"csrfmiddlewaretoken": str(token)}).status_code == 302
    assert calls(sim) - before == Counter({sim_action: 1})


@pytest.mark.parametrize(("name", "sim_action"), ACTIONS)
def test_staff_without_the_change_permission_can_neither_see_nor_run_them(
    client: Client, provider: Provider, sim: Simulator, name: str, sim_action: str
) -> None:
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(content_type__app_label="catalog", codename="view_provider")
    )
    client.force_login(viewer)
    url = reverse(name, args=[provider.pk])
    before = calls(sim)

    assert client.get(change_page(provider)).status_code == 200  # may look, not act
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert calls(sim) == before


@pytest.mark.parametrize(("name", "sim_action"), ACTIONS)
@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
def test_it_answers_405_to_other_methods(
    staff: Client, provider: Provider, sim: Simulator, name: str, sim_action: str, method: str
) -> None:
    before = calls(sim)
    response = getattr(staff, method)(reverse(name, args=[provider.pk]))

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert calls(sim) == before


def test_it_answers_404_for_a_provider_that_does_not_exist(staff: Client, db: None) -> None:
    url = reverse("admin:catalog_provider_sync_catalogue", args=[987654])
    assert staff.get(url).status_code == 404


def test_it_asks_in_russian(staff: Client, provider: Provider) -> None:
    staff.cookies["django_language"] = "ru"
    url = reverse("admin:catalog_provider_sync_catalogue", args=[provider.pk])
    body = staff.get(url).content.decode()

    assert "Синхронизировать каталог поставщика «Sim» сейчас?" in body
    assert "Панель сейчас загрузит список услуг поставщика" in body
    assert ">Отмена<" in body.replace(" ", "").replace("\n", "")
