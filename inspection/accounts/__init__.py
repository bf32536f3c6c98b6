"""People: users, certificates, API tokens, login and its throttle, who works in which cell, and the account and admin pages for users and the grid."""
