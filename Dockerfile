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
RUN DJANGO_DEBUG=true python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 upline && mkdir -p /app/var && chown -R upline /app/var
USER upline
EXPOSE 8000
CMD ["gunicorn", "panel.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
