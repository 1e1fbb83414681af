"""HTML pages of the emulated User Portal, rendered from ``templates/`` with ``string.Template``.

Every value put into a page is HTML-escaped unless it is :class:`Markup` (a fragment this
module rendered itself), so a user name like ``<script>`` shows as text. Pages carry stable
element ids and ``data-testid`` attributes because Playwright drives them; they load nothing
from outside the emulator (the CSS is inlined) so a browser test never needs the network.
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from string import Template

_TEMPLATES = "tokenrig.harness.jumpcloud.emulator"


class Markup(str):
    """Text that is already safe HTML (rendered by :func:`fragment`); never escaped again."""

    __slots__ = ()


@cache
def _template(name: str) -> Template:
    source = resources.files(_TEMPLATES).joinpath("templates", name).read_text(encoding="utf-8")
    return Template(source)


def _escape(value: str) -> str:
    return value if isinstance(value, Markup) else html.escape(value, quote=True)


def fragment(template: str, /, **values: str) -> Markup:
    """Render ``templates/<template>`` with every value escaped (Markup values pass through)."""
    escaped = {key: _escape(value) for key, value in values.items()}
    return Markup(_template(template).substitute(escaped))


def page(template: str, /, *, title: str, xsrf: str | None = None, **values: str) -> str:
    """A whole page: ``templates/<template>`` inside ``base.html``.

    With ``xsrf`` (a signed-in session's token) the page gets the portal's navigation bar,
    whose log-out form needs the token.
    """
    nav = fragment("nav.html", xsrf=xsrf) if xsrf is not None else Markup("")
    content = fragment(template, xsrf=xsrf or "", **values)
    css = Markup(_template("portal.css").template)
    return fragment(
        "base.html",
        title=title,
        page=template.removesuffix(".html"),
        css=css,
        nav=nav,
        content=content,
    )


def message_page(
    heading: str,
    text: str,
    *,
    link: str = "/login",
    link_text: str = "Back to Login",
    css_class: str = "error",
    xsrf: str | None = None,
) -> str:
    """A one-message page (lockout, expired link, errors a browser user should read)."""
    return page(
        "message.html",
        title=heading,
        xsrf=xsrf,
        heading=heading,
        text=text,
        link=link,
        link_text=link_text,
        css_class=css_class,
    )
