"""What a referrer's page shows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum

from accounts.models import User
from referrals.models import Commission, Referral


@dataclass(frozen=True)
class ReferralStats:
    visits: int
    signups: int
    deposits: int
    deposited: Decimal
    earned: Decimal


def referral_stats(*, user: User, visits: int) -> ReferralStats:
    """Sign-ups, deposits and earnings of `user`'s referrals, in two queries."""
    signups = Referral.objects.filter(referrer=user).count()
    totals = Commission.objects.filter(referral__referrer=user).aggregate(
        deposits=Count("id"), deposited=Sum("deposit"), earned=Sum("amount")
    )
    return ReferralStats(
        visits=visits,
        signups=signups,
        deposits=totals["deposits"] or 0,
        deposited=totals["deposited"] or Decimal(0),
        earned=totals["earned"] or Decimal(0),
    )


def recent_commissions(*, user: User, limit: int) -> list[Commission]:
    return list(
        Commission.objects.filter(referral__referrer=user)
        .select_related("referral__referred")
        .order_by("-id")[:limit]
    )
