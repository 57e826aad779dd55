"""A WSGI application with a bug, for looking at what failures look like.

``/?4`` shares 100 between four people; ``/?0`` divides by zero. ``application``
lets that exception escape to mod_wsgi. ``logged`` is the same application
wrapped, as web frameworks do, so that it writes the whole traceback to the
error log itself and answers with an error page of its own.
"""

import sys
import traceback


def share(total, people):
    return total / people


def application(environ, start_response):
    people = int(environ.get("QUERY_STRING") or "1")
    body = f"Everyone gets {share(100, people):.2f}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]


def log_exceptions(app):
    """Wrap a WSGI application: log an exception it raises in full, answer 500."""

    def wrapper(environ, start_response):
        try:
            return app(environ, start_response)
        except Exception:
            traceback.print_exc(file=environ["wsgi.errors"])
            headers = [("Content-Type", "text/plain; charset=utf-8")]
            start_response("500 Internal Server Error", headers, sys.exc_info())
            return [b"Sorry, something went wrong. It has been logged.\n"]

    return wrapper


logged = log_exceptions(application)
