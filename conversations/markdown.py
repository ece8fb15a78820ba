"""
Replies rendered from Markdown to HTML that is safe to show: markdown-it (CommonMark with tables and
strikethrough, raw HTML off) and then nh3, so no script, handler or javascript: link survives even if
the renderer let one through. The chat page's browser code renders with markdown-it too, so a reply
reads the same while it streams in and after a reload.
"""

from functools import cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"style"}, "th": {"style"}, "ol": {"start"}}


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )


def markdown_html(text: str) -> SafeString:
    html = _renderer().render(text)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above
