"""What the browser driver reads on the User Portal: each button, heading, menu entry and field
label with every wording JumpCloud is known to use for it.

The driver finds elements only by accessible role, label and visible text (as a person or a
screen reader does), never by an id or a test id: the real portal shares no markup with
tokenrig's emulator, and JumpCloud rewords its pages without notice. A new variant seen on a
real org goes into this one table.

Sources: JumpCloud's support pages and public MFA-enrollment simulation, and third-party
enrollment guides (Token2, Deepnet, esevel). Entries the public sources do not give (labels of
the login fields, the QR step's heading, Log Out) are marked *assumed*: they fit the emulator
and common portal wording, and are the first thing to check against a real org.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    """One thing on the page and the texts it is known by (newest first)."""

    what: str
    variants: tuple[str, ...]

    @property
    def pattern(self) -> re.Pattern[str]:
        """The whole accessible name or text equal to one variant (case and surrounding
        space ignored: capitalisation is what changes most between versions)."""
        joined = "|".join(re.escape(variant) for variant in self.variants)
        return re.compile(rf"^\s*(?:{joined})\s*$", re.IGNORECASE)

    def __str__(self) -> str:
        return " / ".join(f'"{variant}"' for variant in self.variants)


# -- login ---------------------------------------------------------------------------------------
EMAIL_FIELD = Wording("the email field", ("Email", "Email Address", "Company Email"))  # assumed
CONTINUE = Wording("the Continue button", ("Continue",))
PASSWORD_FIELD = Wording("the password field", ("Password",))
LOG_IN = Wording("the log-in button", ("Log In", "Login", "Sign In", "Continue"))  # assumed
CODE_FIELD = Wording(
    "the code field",
    ("Verification code", "Verification Code", "TOTP Code", "Authentication Code"),  # assumed
)
SUBMIT = Wording("the Submit button", ("Submit",))
LOG_OUT = Wording("the Log Out button", ("Log Out", "Logout", "Sign Out"))  # assumed

# -- activation (the mail's link) ----------------------------------------------------------------
NEW_PASSWORD_FIELD = Wording("the new-password field", ("New password", "New Password"))  # assumed
CONFIRM_PASSWORD_FIELD = Wording(
    "the confirm-password field",
    ("Confirm password", "Confirm Password"),  # assumed
)
SET_PASSWORD = Wording(
    "the set-password button",
    ("Activate Account", "Set Password", "Reset Password", "Save"),  # assumed
)
PASSWORD_SET = Wording(
    "the password-set confirmation",
    ("Your password is set", "Account Activated"),  # assumed
)

# -- the MFA prompt (a dialog over the portal) ---------------------------------------------------
MFA_PROMPT = Wording(
    "the MFA prompt", ("Verify Your Identity", "Set Up Multi-Factor Authentication")
)
SET_UP_LATER = Wording("the Set Up Later button", ("Set Up Later",))
SET_UP_APP = Wording(
    "the authenticator-app choice",
    ("Set Up Authenticator App", "Set up Authentication App", "Set up TOTP", "Authenticator App"),
)
HAVE_APP = Wording("the I Have the App button", ("I Have the App", "I have an app"))
ENROLLED = Wording("the success message", ("Authenticator App Enrollment Successful!",))
DONE = Wording("the Done button", ("Done",))
VERIFY_ACCOUNT = Wording("the code prompt", ("Verify Your Account",))

# -- the portal ----------------------------------------------------------------------------------
SECURITY_MENU = Wording("the Security page's menu entry", ("Security", "Password"))
TOTP_ACTIVE = Wording(
    "the authenticator-active status", ("Authenticator App is active on your account.",)
)
DAYS_LEFT = re.compile(r"(\d+)\s+days?\b[^.]*\bremain", re.IGNORECASE)
"""The days left to set up MFA ("You have 6 days remaining …")."""
LOCKED = re.compile(r"\blocked\b", re.IGNORECASE)
"""A lock-out message, whatever else it says ("Your account is locked. …")."""

BASE32_KEY = re.compile(r"^[A-Z2-7](?:[A-Z2-7 ]{14,}[A-Z2-7])=*$")
"""The key printed beneath the QR code: base32 (RFC 4648), 16 characters or more, maybe
grouped by spaces."""

ALL: tuple[Wording, ...] = (
    EMAIL_FIELD,
    CONTINUE,
    PASSWORD_FIELD,
    LOG_IN,
    CODE_FIELD,
    SUBMIT,
    LOG_OUT,
    NEW_PASSWORD_FIELD,
    CONFIRM_PASSWORD_FIELD,
    SET_PASSWORD,
    PASSWORD_SET,
    MFA_PROMPT,
    SET_UP_LATER,
    SET_UP_APP,
    HAVE_APP,
    ENROLLED,
    DONE,
    VERIFY_ACCOUNT,
    SECURITY_MENU,
    TOTP_ACTIVE,
)
