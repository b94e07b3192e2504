"""What the audits area tells the rest of the app, without importing it.

Receivers run at once, inside the sender's transaction: what they add commits or rolls back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent when a return has been submitted, with ``response`` (flushed, its answers final). The action
#: plans area makes the return's action plan, so a submitted return always has one.
return_submitted = _signals.signal("return-submitted")

#: Sent when imported returns have been written as submitted, with ``cycle`` and ``establishment_ids``
#: (every establishment whose return, its own or its trust's, came in), so their action plans are made too,
#: and ``own_gaps``: for each establishment whose own return came in, the keys of the questions its answers
#: leave a gap in (``questions.is_gap``), found as the file was read.
returns_imported = _signals.signal("returns-imported")
