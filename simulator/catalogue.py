"""The simulated provider's service catalogue, generated deterministically from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from panel.smmapi.protocol import ServiceType

from .money import fmt_money

T = ServiceType


@dataclass
class SimService:
    id: int
    name: str
    type: ServiceType
    category: str
    rate: Decimal  # per 1000 units; per package for package-like types
    min: int
    max: int
    refill: bool = False
    cancel: bool = False
    dripfeed: bool = False
    desc: str = ""

    def row(self) -> dict[str, object]:
        """The canonical ``services`` row."""
        return {
            "service": self.id,
            "name": self.name,
            "type": self.type.value,
            "category": self.category,
            "rate": fmt_money(self.rate),
            "min": str(self.min),
            "max": str(self.max),
            "refill": self.refill,
            "cancel": self.cancel,
            "dripfeed": self.dripfeed,
            "desc": self.desc,
        }


# A hand-written catalogue that looks like a real provider and covers every service type.
# Rows: name, type, rate, min, max, flags (R = refill, C = cancel, D = drip-feed), speed/day.
_TABLE: dict[str, list[tuple[str, ServiceType, str, int, int, str, str]]] = {
    "Instagram Followers": [
        ("Instagram Followers [Real] [Refill 30D]", T.DEFAULT, "1.20", 100, 100_000, "RCD", "5K"),
        ("Instagram Followers [Cheapest] [No Refill]", T.DEFAULT, "0.35", 50, 50_000, "CD", "20K"),
        ("Instagram Followers [HQ] [Lifetime Refill]", T.DEFAULT, "2.40", 100, 500_000, "RD", "3K"),
    ],
    "Instagram Likes": [
        ("Instagram Likes [Instant] [10K/Day]", T.DEFAULT, "0.08", 10, 50_000, "CD", "10K"),
        ("Instagram Likes [Real] [Refill 30D]", T.DEFAULT, "0.45", 20, 100_000, "RCD", "10K"),
    ],
    "Instagram Views": [
        ("Instagram Reel Views [Fast]", T.DEFAULT, "0.012", 100, 10_000_000, "CD", "1M"),
        ("Instagram Story Views [All Stories]", T.DEFAULT, "0.05", 100, 50_000, "", "10K"),
    ],
    "Instagram Comments": [
        (
            "Instagram Custom Comments [Real Accounts]",
            T.CUSTOM_COMMENTS,
            "12.00",
            5,
            1000,
            "",
            "500",
        ),
        ("Instagram Random Comments [Emoji]", T.DEFAULT, "4.50", 10, 5000, "C", "1K"),
        (
            "Instagram Custom Comments Package [10 Comments]",
            T.CUSTOM_COMMENTS_PACKAGE,
            "1.80",
            1,
            10,
            "",
            "100",
        ),
        ("Instagram Comment Likes", T.COMMENT_LIKES, "2.20", 20, 10_000, "C", "10K"),
        ("Instagram Comment Replies [Custom]", T.COMMENT_REPLIES, "15.00", 5, 500, "", "500"),
    ],
    "Instagram Mentions": [
        ("Instagram Mentions [Custom Usernames]", T.MENTIONS, "3.00", 100, 50_000, "", "10K"),
        (
            "Instagram Mentions [With Hashtags]",
            T.MENTIONS_WITH_HASHTAGS,
            "3.50",
            100,
            50_000,
            "",
            "10K",
        ),
        ("Instagram Mentions [Custom List]", T.MENTIONS_CUSTOM_LIST, "4.00", 10, 5000, "", "10K"),
        ("Instagram Mentions [Hashtag Scrape]", T.MENTIONS_HASHTAG, "3.20", 100, 50_000, "", "10K"),
        (
            "Instagram Mentions [User Followers]",
            T.MENTIONS_USER_FOLLOWERS,
            "3.20",
            100,
            50_000,
            "",
            "10K",
        ),
        (
            "Instagram Mentions [Media Likers]",
            T.MENTIONS_MEDIA_LIKERS,
            "3.40",
            100,
            50_000,
            "",
            "10K",
        ),
    ],
    "Instagram Packages": [
        ("Instagram Profile Boost [1K Followers + 5K Likes]", T.PACKAGE, "9.90", 1, 1, "", "1"),
    ],
    "Instagram Auto Likes": [
        (
            "Instagram Auto Likes [Subscription] [Per Post]",
            T.SUBSCRIPTIONS,
            "0.30",
            50,
            10_000,
            "C",
            "10K",
        ),
        (
            "Instagram Auto Views [Subscription] [Per Post]",
            T.SUBSCRIPTIONS,
            "0.02",
            100,
            100_000,
            "C",
            "10K",
        ),
    ],
    "TikTok Followers": [
        ("TikTok Followers [Refill 30D]", T.DEFAULT, "2.10", 100, 100_000, "RCD", "5K"),
    ],
    "TikTok Likes": [
        ("TikTok Likes [Instant]", T.DEFAULT, "0.40", 50, 100_000, "CD", "10K"),
    ],
    "TikTok Views": [
        ("TikTok Views [Super Fast]", T.DEFAULT, "0.004", 100, 10_000_000, "CD", "1M"),
        ("TikTok Shares", T.DEFAULT, "0.30", 100, 1_000_000, "C", "10K"),
    ],
    "TikTok Comments": [
        ("TikTok Custom Comments", T.CUSTOM_COMMENTS, "9.00", 5, 1000, "", "500"),
    ],
    "TikTok Live": [
        ("TikTok Live Stream Views [15 Minutes]", T.DEFAULT, "1.50", 50, 10_000, "", "10K"),
    ],
    "YouTube Views": [
        (
            "YouTube Views [Non Drop] [Lifetime Refill]",
            T.DEFAULT,
            "1.60",
            500,
            1_000_000,
            "RD",
            "50K",
        ),
    ],
    "YouTube Likes": [
        ("YouTube Likes [Refill 30D]", T.DEFAULT, "2.50", 20, 50_000, "RCD", "2K"),
    ],
    "YouTube Subscribers": [
        ("YouTube Subscribers [Real] [Refill 30D]", T.DEFAULT, "18.00", 50, 20_000, "R", "500"),
    ],
    "YouTube Comments": [
        ("YouTube Custom Comments", T.CUSTOM_COMMENTS, "20.00", 5, 500, "", "300"),
        ("YouTube Comment Likes", T.COMMENT_LIKES, "3.00", 20, 10_000, "C", "10K"),
        ("YouTube Comment Replies [Custom]", T.COMMENT_REPLIES, "22.00", 5, 300, "", "300"),
    ],
    "YouTube Packages": [
        ("YouTube Watch Time [4000 Hours Package]", T.PACKAGE, "89.00", 1, 1, "", "1"),
    ],
    "Telegram Members": [
        ("Telegram Channel Members [No Refill]", T.DEFAULT, "0.90", 100, 100_000, "CD", "10K"),
        ("Telegram Channel Members [Refill 30D]", T.DEFAULT, "1.90", 100, 50_000, "RCD", "5K"),
        (
            "Telegram Group Members [Invites From Groups]",
            T.INVITES_FROM_GROUPS,
            "6.00",
            100,
            10_000,
            "",
            "2K",
        ),
    ],
    "Telegram Views": [
        ("Telegram Post Views [Last 1 Post]", T.DEFAULT, "0.02", 100, 1_000_000, "", "100K"),
        (
            "Telegram Auto Views [Subscription] [Future Posts]",
            T.SUBSCRIPTIONS,
            "0.03",
            100,
            50_000,
            "C",
            "10K",
        ),
    ],
    "Telegram Polls": [
        ("Telegram Poll Votes", T.POLL, "1.20", 50, 20_000, "C", "10K"),
    ],
    "Telegram Reactions": [
        ("Telegram Reactions [Positive Mix]", T.DEFAULT, "0.15", 10, 50_000, "C", "10K"),
    ],
    "X (Twitter)": [
        ("X Followers [Refill 30D]", T.DEFAULT, "6.50", 100, 20_000, "RCD", "2K"),
        ("X Likes", T.DEFAULT, "1.10", 20, 20_000, "C", "10K"),
        ("X Retweets", T.DEFAULT, "1.50", 20, 10_000, "D", "10K"),
        ("X Poll Votes", T.POLL, "1.80", 100, 50_000, "", "10K"),
    ],
    "Facebook": [
        (
            "Facebook Page Likes + Followers [Refill 30D]",
            T.DEFAULT,
            "3.90",
            100,
            50_000,
            "RC",
            "10K",
        ),
        ("Facebook Post Reactions [Love]", T.DEFAULT, "1.30", 50, 20_000, "C", "10K"),
    ],
    "Spotify": [
        ("Spotify Plays [Premium]", T.DEFAULT, "0.95", 1000, 10_000_000, "D", "50K"),
        ("Spotify Artist Followers [Refill 30D]", T.DEFAULT, "1.40", 100, 100_000, "RC", "10K"),
    ],
    "Website Traffic": [
        (
            "Website Traffic [Google Keyword Search] [USA]",
            T.SEO,
            "1.10",
            500,
            1_000_000,
            "C",
            "20K",
        ),
        ("Website Traffic [Worldwide] [Direct]", T.DEFAULT, "0.25", 1000, 10_000_000, "CD", "100K"),
    ],
}


@dataclass(frozen=True)
class _Template:
    category: str
    name: str
    type: ServiceType
    rate: str
    min: int
    max: int
    flags: str
    speed: str


_TEMPLATES = tuple(_Template(category, *row) for category, rows in _TABLE.items() for row in rows)

_HINTS: dict[ServiceType, str] = {
    T.CUSTOM_COMMENTS: "One comment per line; quantity is the number of lines.",
    T.CUSTOM_COMMENTS_PACKAGE: "One comment per line; priced per package.",
    T.COMMENT_REPLIES: "Link to the post, username of the comment owner, one reply per line.",
    T.COMMENT_LIKES: "Link to the post and the username of the comment owner.",
    T.MENTIONS: "One username per line.",
    T.MENTIONS_WITH_HASHTAGS: "One username and one hashtag per line.",
    T.MENTIONS_CUSTOM_LIST: "One username per line; quantity is the number of lines.",
    T.MENTIONS_HASHTAG: "Hashtag to scrape usernames from.",
    T.MENTIONS_USER_FOLLOWERS: "Profile whose followers get mentioned.",
    T.MENTIONS_MEDIA_LIKERS: "Post whose likers get mentioned.",
    T.PACKAGE: "Fixed package; link only.",
    T.POLL: "Link to the poll and the answer number (1-based).",
    T.INVITES_FROM_GROUPS: "One source group per line.",
    T.SEO: "One keyword per line.",
    T.SUBSCRIPTIONS: "Delivers between min and max on each new post. Charged max x posts.",
}


def generate_catalogue(count: int = 50, *, seed: int = 0) -> list[SimService]:
    """Build ``count`` services with ids 1..count, the same for the same seed.

    The first services come from a hand-written list that covers every service type (when
    ``count`` is at least the number of types); beyond it, numbered "Server N" variants.
    """
    rng = random.Random(seed)  # noqa: S311 - a simulation, not security
    picked = _pick_covering(count) if count <= len(_TEMPLATES) else list(range(count))
    services = []
    for service_id, index in enumerate(picked, start=1):
        template = _TEMPLATES[index % len(_TEMPLATES)]
        server = index // len(_TEMPLATES) + 1
        services.append(_from_template(template, service_id, server, rng))
    return services


def _pick_covering(count: int) -> list[int]:
    """Template indexes: one of each type first, then the rest in order; kept in catalogue order."""
    first_of_type: dict[ServiceType, int] = {}
    for index, template in enumerate(_TEMPLATES):
        first_of_type.setdefault(template.type, index)
    order = list(first_of_type.values())
    order += [i for i in range(len(_TEMPLATES)) if i not in first_of_type.values()]
    return sorted(order[:count])


def _from_template(
    template: _Template, service_id: int, server: int, rng: random.Random
) -> SimService:
    # Jitter the rate by +-20% in whole 1/10000ths, never through a float.
    base = int(Decimal(template.rate) * 10_000)
    rate = Decimal(max(1, base * rng.randint(80, 120) // 100)).scaleb(-4)
    name, category, maximum = template.name, template.category, template.max
    if server > 1:
        name = f"{name} [Server {server}]"
        category = f"{category} - Server {server}"
        if maximum > 1:
            maximum = maximum * rng.choice((1, 2, 5))
    parts = [f"Start: 0-{rng.choice((1, 2, 6, 12))} h. Speed: up to {template.speed}/day."]
    parts.append("Refill: 30 days." if "R" in template.flags else "No refill.")
    if "C" in template.flags:
        parts.append("Cancel enabled.")
    if "D" in template.flags:
        parts.append("Drip-feed available.")
    if hint := _HINTS.get(template.type):
        parts.append(hint)
    return SimService(
        id=service_id,
        name=name,
        type=template.type,
        category=category,
        rate=rate,
        min=template.min,
        max=maximum,
        refill="R" in template.flags,
        cancel="C" in template.flags,
        # Drip-feed only exists for Default services.
        dripfeed="D" in template.flags and template.type is ServiceType.DEFAULT,
        desc=" ".join(parts),
    )
