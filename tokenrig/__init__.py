"""tokenrig: a hardware-in-the-loop harness for programmable TOTP tokens.

``tokenrig`` is the one import package the distribution installs. The project's folders
(``harness/``, ``fixtures/``) live inside it, so no installed import name collides with another
PyPI distribution (PyPI's ``fixtures`` is testing-cabal's; ``harness`` is taken too).
"""

__version__ = "0.1.0"
