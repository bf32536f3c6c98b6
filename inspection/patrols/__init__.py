"""Patrols (巡查): tracks recorded on the phone or imported from a file, cleaned, stored, shown and counted."""
