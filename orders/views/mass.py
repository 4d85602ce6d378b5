"""Mass order: one `service_id | link | quantity` order per line, each valid line placed once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User
from orders.errors import PlacementError
from orders.forms import MassOrderForm, parse_mass_lines
from orders.models import Order
from orders.services import order_place
from orders.views.errors import error_text
from panel.throttle import rate_limited


@dataclass(frozen=True)
class LineResult:
    number: int
    text: str
    order: Order | None
    error: str


@login_required
@rate_limited("order")
def order_mass(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    results: list[LineResult] = []
    form = MassOrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        batch = request.POST.get("batch", "")[:64] or uuid.uuid4().hex
        for line in parse_mass_lines(form.cleaned_data["orders"]):
            if line.error or line.service_id is None:
                results.append(LineResult(line.number, line.text, None, line.error))
                continue
            try:
                # Keyed per batch and line: submitting the same batch again (a double
                # click, a retried POST) returns the orders already placed.
                order = order_place(
                    user=user,
                    service_id=line.service_id,
                    fields=line.fields,
                    source=Order.Source.MASS,
                    idempotency_key=f"mass:{batch}:{line.number}",
                )
            except PlacementError as exc:
                results.append(LineResult(line.number, line.text, None, error_text(exc)))
            else:
                results.append(LineResult(line.number, line.text, order, ""))
        # Keep only the lines that failed, ready to be fixed and sent again.
        failed = "\n".join(result.text for result in results if result.order is None)
        form = MassOrderForm(initial={"orders": failed})
        user.refresh_from_db(fields=["balance"])
    placed = [result for result in results if result.order is not None]
    return render(
        request,
        "orders/mass_order.html",
        {
            "form": form,
            "batch": uuid.uuid4().hex,
            "results": results,
            "placed_count": len(placed),
            "failed_count": len(results) - len(placed),
            "placed_total": sum((r.order.charge for r in placed if r.order), Decimal(0)),
        },
    )
