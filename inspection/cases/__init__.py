"""The three record kinds with photos and history: report, edit, workflow, deadlines and lights, scope, lists, case pages and ledger import."""
