from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
PASSWORD = "correct horse battery"
LOCKOUT_MESSAGE = (
    "Too many failed login attempts for this account from your network. "
    "Please wait 5 minutes and try again, or reset your password."
)


def attempt(client: Client, email: str, password: str, ip: str) -> Any:
    return client.post(LOGIN_URL, {"login": email, "password": password}, REMOTE_ADDR=ip)


def fail_five_times(client: Client, email: str, ip: str) -> None:
    for _ in range(5):
        response = attempt(client, email, "wrong password", ip)
        assert response.status_code == 200  # the form again, with an error


def test_it_logs_in_with_email_and_password(client: Client, customer: User) -> None:
    response = attempt(client, customer.email, PASSWORD, "10.0.0.1")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(customer.pk)


def test_it_answers_429_after_five_failures_for_one_account_and_ip(
    client: Client, customer: User
) -> None:
    fail_five_times(client, customer.email, "10.0.0.1")

    response = attempt(client, customer.email, PASSWORD, "10.0.0.1")

    assert response.status_code == 429
    assert response["Retry-After"] == "300"
    assert LOCKOUT_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_does_not_let_strangers_lock_the_owner_out(client: Client, customer: User) -> None:
    fail_five_times(client, customer.email, "203.0.113.7")  # the attacker's address
    assert attempt(client, customer.email, PASSWORD, "203.0.113.7").status_code == 429

    owner = Client()
    response = attempt(owner, customer.email, PASSWORD, "198.51.100.20")

    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(customer.pk)


def test_it_treats_an_ipv6_64_as_one_client(client: Client, customer: User) -> None:
    for n in range(5):
        attempt(client, customer.email, "wrong", f"2001:db8:1:2::{n + 1}")

    assert attempt(client, customer.email, PASSWORD, "2001:db8:1:2::99").status_code == 429


def test_it_limits_one_ip_guessing_across_many_accounts(client: Client, db: None) -> None:
    statuses = [
        attempt(client, f"victim{n}@example.com", "wrong", "203.0.113.9").status_code
        for n in range(21)
    ]

    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429


def test_it_does_not_count_successful_logins(client: Client, customer: User) -> None:
    for _ in range(8):
        assert attempt(Client(), customer.email, PASSWORD, "10.0.0.1").status_code == 302


def test_it_sends_the_admin_login_through_allauth(client: Client, admin_user: User) -> None:
    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin_user.email, "password": "password"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in client.session


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("staff@example.com", PASSWORD, is_staff=True)


def test_it_sends_staff_without_totp_to_set_it_up(
    client: Client, staff: User, settings: Any
) -> None:
    settings.MFA_REQUIRED_FOR_STAFF = True
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    # The setup page (behind allauth's re-authentication) stays reachable: no redirect loop.
    setup = client.get("/accounts/2fa/totp/activate/", follow=True)
    assert setup.status_code == 200
    assert setup.redirect_chain in (
        [],
        [("/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F", 302)],
    )


def test_it_lets_staff_with_totp_through(client: Client, staff: User, settings: Any) -> None:
    settings.MFA_REQUIRED_FOR_STAFF = True
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(staff)

    assert client.get("/admin/").status_code == 200


def test_it_leaves_staff_alone_when_the_setting_is_off(
    client: Client, staff: User, settings: Any
) -> None:
    settings.MFA_REQUIRED_FOR_STAFF = False
    client.force_login(staff)

    assert client.get("/admin/").status_code == 200


def test_it_never_requires_totp_from_customers(
    client: Client, customer: User, settings: Any
) -> None:
    settings.MFA_REQUIRED_FOR_STAFF = True
    client.force_login(customer)

    response = client.get("/payments/999/return/success/")

    assert response.status_code == 404  # reached the view, not the TOTP setup


def test_it_requires_email_verification_when_the_setting_says_so(
    client: Client, settings: Any, mailoutbox: list[Any]
) -> None:
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"

    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a long passphrase 42",
            "password2": "a long passphrase 42",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    assert [m.to for m in mailoutbox] == [["new@example.com"]]
    assert attempt(client, "new@example.com", "a long passphrase 42", "10.0.0.1")["Location"] == (
        "/accounts/confirm-email/"
    )


def test_it_signs_up_without_verification_by_default(
    client: Client, settings: Any, mailoutbox: list[Any]
) -> None:
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"

    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a long passphrase 42",
            "password2": "a long passphrase 42",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert (user.balance, user.role, user.is_staff) == (0, "customer", False)
