"""Services for reviewers' feedback on replies: one rating per message, replaced when rated again."""

from django.utils import timezone

from ..exceptions import FeedbackNotAllowed
from ..models import Feedback, Message, MessageRole
from ..selectors import Owner


def message_feedback_set(*, message: Message, rating: str, comment: str, author: Owner) -> Feedback:
    if message.role != MessageRole.ASSISTANT:
        raise FeedbackNotAllowed(param="message_id")
    now = timezone.now()
    feedback, _ = Feedback.objects.update_or_create(
        message=message,
        defaults={"rating": rating, "comment": comment, "author": author, "updated_at": now},
        create_defaults={
            "rating": rating, "comment": comment, "author": author, "created_at": now, "updated_at": now
        },
    )
    return feedback


def message_feedback_delete(*, feedback: Feedback) -> None:
    feedback.delete()
