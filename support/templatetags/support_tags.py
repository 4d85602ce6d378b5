from django import template

from accounts.models import User
from support.selectors import customer_unread_count

register = template.Library()


@register.simple_tag
def support_unread(user: User) -> int:
    """Tickets with replies the signed-in customer has not read yet (for the navigation)."""
    if not user.is_authenticated:
        return 0
    return customer_unread_count(user=user)
