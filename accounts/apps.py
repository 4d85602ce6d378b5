from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and money"

    def ready(self) -> None:
        # The payment methods' admin lives beside them, in accounts.payments.
        from accounts.payments import admin  # noqa: F401
