"""Signals one service sends and another listens to, so that neither imports the other.

The signature services finish a request deep inside a signing job; the onboarding
service, which asked for that signature, opens the client's spaces when it completes.
Onboarding imports the signature services to ask; the signatures report back here.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the ``SignatureRequest`` (already flushed) when its last signer has signed.
signature_request_completed = _signals.signal("signature-request-completed")
