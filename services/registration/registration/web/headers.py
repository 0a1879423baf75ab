"""The security headers of every web page, in one place so no page drifts from the others.

Every page gets `PAGE`. A page whose address carries a token (a confirmation, a cancel link)
adds `PRIVATE`; a signed-in console page adds `SIGNED_IN`.
"""

from __future__ import annotations

from typing import Final

PAGE: Final = {
    # Styles and scripts come from /static only: no inline code, no other origin, no framing.
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# The token is in the URL: never cache the page, never send the URL on as a referrer.
PRIVATE: Final = {**PAGE, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# Keep an organiser's rosters out of caches. The referrer stays same-origin: under no-referrer
# browsers send `Origin: null` with a form post, and the console's origin check could not tell
# its own forms from others'.
SIGNED_IN: Final = {**PAGE, "Cache-Control": "no-store"}
