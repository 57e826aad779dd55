"""A WSGI application that writes to the server's error log on every request.

Anything written to ``environ["wsgi.errors"]``, ``sys.stderr`` or ``sys.stdout``
ends up in Apache's error log, always at the level "error". Records of the
``logging`` module sent through ``mod_wsgi.LogHandler`` keep their own level.
"""

import logging

import mod_wsgi  # under Apache, the module mod_wsgi provides to its embedded Python

logger = logging.getLogger("workshop")
logger.addHandler(mod_wsgi.LogHandler())
logger.setLevel(logging.INFO)
logger.propagate = False


def application(environ, start_response):
    path = environ.get("PATH_INFO") or "/"
    print(f"handling {environ['REQUEST_METHOD']} {path}", file=environ["wsgi.errors"])
    logger.warning("a warning about %s", path)
    logger.info("some information about %s", path)
    body = f"You asked for {path}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]
