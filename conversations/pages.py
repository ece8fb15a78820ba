"""
The chat page at /chat/: staff continue any stored analysis or start a new one. The page is rendered
on the server (the thread list and the transcript so far); its script sends questions to the API with
the staff session and streams the reply in.
"""

from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.generic import TemplateView

from .templatetags.analysis import provenance

from . import selectors
from .exceptions import ObjectNotFound
from .markdown import markdown_html
from .models import Message, Thread

SIDEBAR_THREADS = 50


def sidebar_threads(*, search: str = "") -> QuerySet[Thread]:
    """The most recently active threads, or those whose title or messages contain `search`."""
    threads = Thread.objects.all()
    if search:
        matching = Message.objects.filter(thread=OuterRef("pk"), text__icontains=search)
        threads = threads.filter(Q(title__icontains=search) | Exists(matching))
    return selectors.threads_with_summary(threads).order_by("-last_activity_at")[:SIDEBAR_THREADS]


@method_decorator(staff_member_required(login_url=settings.LOGIN_URL), name="dispatch")
class ChatPageView(TemplateView):
    template_name = "chat/chat.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        search = self.request.GET.get("q", "").strip()[:200]
        thread = self._thread(kwargs.get("thread_id"))
        entries = []
        if thread is not None:
            messages = Message.objects.filter(thread=thread).select_related("feedback").order_by("id")
            entries = [(message, markdown_html(message.text)) for message in messages]
        return {
            **super().get_context_data(**kwargs),
            "threads": sidebar_threads(search=search),
            "search": search,
            "thread": thread,
            "entries": entries,
        }

    def _thread(self, thread_id: str | None) -> Thread | None:
        if thread_id is None:
            return None
        try:
            return selectors.object_get(Thread.objects.all(), public_id=thread_id)
        except ObjectNotFound:
            raise Http404(f"No thread found with id '{thread_id}'.") from None


@method_decorator(staff_member_required(login_url=settings.LOGIN_URL), name="dispatch")
class ProvenanceFragmentView(TemplateView):
    """A reply's queries and charts as HTML, for the page to show under a reply it streamed in."""

    template_name = "analysis/provenance.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        messages = Message.objects.filter(thread__public_id=kwargs["thread_id"])
        try:
            message = selectors.object_get(messages, public_id=kwargs["message_id"])
        except ObjectNotFound:
            raise Http404(f"No message found with id '{kwargs['message_id']}'.") from None
        return provenance(message)
