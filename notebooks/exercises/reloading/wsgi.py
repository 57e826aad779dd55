"""The entry point of a small application whose text lives in another module.

mod_wsgi-express reloads this script by itself when the script changes; a
change to ``greeting.py``, which it imports, needs ``--reload-on-changes``.
"""

import greeting


def application(environ, start_response):
    body = f"{greeting.text()}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]
