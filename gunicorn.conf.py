"""Gunicorn settings for `make serve`: several worker processes on 127.0.0.1:8000.

WEB_CONCURRENCY sets the number of worker processes (default 2 × CPUs + 1), WEB_THREADS the threads
in each (default 4). The app is built once in the master and forked, so a killed worker is back in
a moment; the master never connects to the database, and each worker starts with an empty
connection pool of its own (post_fork).
"""

import os

wsgi_app = "app:create_app()"
preload_app = True
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
# Threads, so that a slow upload from a field phone holds one thread, not a whole worker.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 4)
# Idle keep-alive connections stay open longer than a person pauses between clicks, so a request
# never races the server closing its connection (the client would see a reset).
keepalive = 75
timeout = 60  # a worker silent this long (stuck) is killed and replaced
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then, so memory stays flat
max_requests_jitter = 200
accesslog = os.environ.get("ACCESS_LOG") or None
# No admin socket in the home folder: nothing here uses it, and several servers (tests) may run.
control_socket_disable = True


def post_fork(server, worker):
    """Give the new worker its own connection pool: nothing opened before the fork is reused."""
    server.app.wsgi().extensions["db_engine"].dispose(close=False)
