"""Proof under faults: a bounded chaos suite over real processes (``make chaos``).

``python -m chaos`` starts its own Redis and PostgreSQL under ``var/chaos/`` (loopback ports
6391 and 5441; never the machine's shared ones), then gunicorn serving the panel, one Celery
worker, one beat and the provider simulator, and runs seven scenarios against them: concurrent
adds (1), provider faults while forwarding (2), worker SIGKILLs (3), Redis stopped (4),
PostgreSQL crash-restarted (5), status sync on garbage (6) and a mixed load (7). Each ends with
``check_ledger`` and our orders compared with the simulator's own record (``chaos.checks``) and
prints one line with its figures and PASS or FAIL. Everything stops by itself at the end.

Modules: ``stack`` (the processes), ``clients`` (reseller API, browser session, simulator
control), ``world`` (what scenarios see), ``checks`` (the verdict), ``scenarios/``.
Short versions of scenarios 1, 2 and 6 run in ``make test`` (``tests/chaos``).
"""
