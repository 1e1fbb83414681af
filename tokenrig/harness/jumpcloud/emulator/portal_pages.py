"""HTML pages of the emulated User Portal, rendered from ``templates/`` with ``string.Template``.

Every value put into a page is HTML-escaped unless it is :class:`Markup` (a fragment this
module rendered itself), so a user name like ``<script>`` shows as text. Every template also
gets the look's wording as ``${w_<name>}`` (``portal_looks.py``), so one switch changes every
button and heading.

The shape follows JumpCloud's User Portal: a top bar with the account's Log Out, a left menu
(a navigation landmark) once signed in, labelled inputs, and the MFA steps as a modal dialog
(``role="dialog"``, ``aria-modal``, ``aria-labelledby`` its heading) over the portal. Pages
carry stable ids and ``data-testid`` attributes for the emulator's own HTTP tests; with the
look's ``ids="random"`` they are renamed per page, which the browser driver must not notice.
They load nothing from outside the emulator (the CSS is inlined).
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from string import Template

from tokenrig.harness.jumpcloud.emulator.portal_looks import PortalLook, rename_ids

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


def fragment(template: str, /, *, look: PortalLook | None = None, **values: str) -> Markup:
    """Render ``templates/<template>`` with every value escaped (Markup values pass through)
    and the look's wording as ``w_*``."""
    words = {f"w_{key}": text for key, text in (look or PortalLook()).words().items()}
    escaped = {key: _escape(value) for key, value in {**words, **values}.items()}
    return Markup(_template(template).substitute(escaped))


def page(
    template: str,
    /,
    *,
    title: str,
    look: PortalLook | None = None,
    xsrf: str | None = None,
    dialog: str | None = None,
    **values: str,
) -> str:
    """A whole page: ``templates/<template>`` inside ``base.html``.

    With ``xsrf`` (a signed-in session's token) the page gets the left menu and Log Out (its
    form needs the token). With ``dialog`` (the id of the template's heading) the template is
    shown as a modal dialog over the portal instead of as the page's content.
    """
    look = look or PortalLook()
    signed_in = xsrf is not None
    menu = fragment("nav.html", look=look) if signed_in else Markup("")
    account = fragment("account.html", look=look, xsrf=xsrf or "") if signed_in else Markup("")
    content = fragment(template, look=look, xsrf=xsrf or "", **values)
    overlay = Markup("")
    if dialog is not None:
        overlay = fragment("dialog.html", look=look, labelledby=dialog, body=content)
        content = fragment("behind.html", look=look)
    css = Markup(_template("portal.css").template)
    rendered = fragment(
        "base.html",
        look=look,
        title=title,
        page=template.removesuffix(".html"),
        css=css,
        menu=menu,
        account=account,
        content=content,
        dialog=overlay,
    )
    return rename_ids(rendered) if look.ids == "random" else rendered


def message_page(
    heading: str,
    text: str,
    *,
    link: str = "/login",
    link_text: str = "Back to Login",
    css_class: str = "error",
    xsrf: str | None = None,
    look: PortalLook | None = None,
) -> str:
    """A one-message page (lockout, expired link, errors a browser user should read)."""
    return page(
        "message.html",
        title=heading,
        look=look,
        xsrf=xsrf,
        heading=heading,
        text=text,
        link=link,
        link_text=link_text,
        css_class=css_class,
    )
