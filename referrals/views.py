"""The referral link (/r/<code>/) and the referrer's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import User
from referrals.selectors import recent_commissions, referral_stats
from referrals.services import programme_get, referral_code_for, referral_visit

# The session key holding the code of the link a visitor came through, until they sign up.
SESSION_KEY = "referral_code"


def referral_link(request: HttpRequest, code: str) -> HttpResponse:
    visitor = request.user if request.user.is_authenticated else None
    referral_code = referral_visit(code=code[:16], visitor=visitor)  # type: ignore[arg-type]
    if referral_code is not None:
        request.session[SESSION_KEY] = referral_code.code
        return redirect("account_signup")
    return redirect("dashboard")


@login_required
def referrals_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    programme = programme_get()
    code = referral_code_for(user=user)
    return render(
        request,
        "referrals/referrals.html",
        {
            "programme": programme,
            "link": request.build_absolute_uri(f"/r/{code.code}/"),
            "stats": referral_stats(user=user, visits=code.visits),
            "commissions": recent_commissions(user=user, limit=20),
        },
    )
