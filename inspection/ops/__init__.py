"""Running the app: backup and restore, the demo town, and the command-line wiring."""
