import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "UPLINE_VAR_DIR": str(ROOT / "var"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-1234567890",
    "DJANGO_ALLOWED_HOSTS": "panel.example.com",
    "UPLINE_ENCRYPTION_KEYS": "ZGV2LW9ubHktaW5zZWN1cmUta2V5LTAwMDAwMDAwMDA=",
}


def test_it_refuses_to_start_in_production_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_check(env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_it_documents_every_environment_variable_in_env_example() -> None:
    import re

    settings_source = (ROOT / "panel" / "settings.py").read_text()
    used = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))
    documented = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    assert used - documented == set()
