"""Enrolling a programmable token as a user's TOTP factor, as named steps.

The procedure an administrator and a user follow (JumpCloud console, activation mail, User
Portal, QR code, token burn, code) is written here once, as small step functions run by a
:class:`~tokenrig.harness.enroll.steps.StepRunner`; the portal is reached either over its JSON calls
(:mod:`tokenrig.harness.jumpcloud.portal_client`) or in a real browser
(:mod:`tokenrig.harness.jumpcloud.portal_driver`), and the token through the one
:class:`~tokenrig.harness.tokens.base.Token` interface.
"""
