"""The floor of the API benchmark (bench/api.py): Upline's own settings and URLs plus one
minimal view doing one indexed SELECT, served by the same gunicorn. Never in product URLs."""
