FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY panel panel
COPY accounts accounts
COPY catalog catalog
COPY orders orders
COPY simulator simulator
RUN pip install .

COPY . .
# With production settings, so that the manifest the pages need (staticfiles.json) is written;
# the secrets here exist only for this build step.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only UPLINE_VAR_DIR=/app/var \
    UPLINE_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 upline && mkdir -p /app/var/metrics /app/var/media && chown -R upline /app/var
USER upline
EXPOSE 8000
CMD ["gunicorn", "-c", "python:panel.gunicorn_conf", "panel.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
