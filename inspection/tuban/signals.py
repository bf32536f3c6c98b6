"""What the 图斑 package announces to the packages above it (they listen; tuban imports none of them)."""

from blinker import Namespace

_signals = Namespace()

# Sent by import_batch when a batch is stored, before the commit, with keyword arguments session,
# batch and report (the ImportReport): a package above may add rows to the same transaction (the
# rechecks package brings forward the 回头看 of closed cases a new 图斑 covers).
batch_imported = _signals.signal("tuban-batch-imported")
