"""What the cases package announces to the packages above it (they listen; cases imports none of them)."""

from blinker import Namespace

_signals = Namespace()

# Sent by the report form when it has created a case, before the commit, with keyword arguments
# session, case and form (the posted fields): a package above may add rows to the same
# transaction (the patrols package links a case reported during a patrol).
case_reported = _signals.signal("case-reported")
