"""A WSGI application that lives in an importable module, not in a script file.

``mod_wsgi-express start-server --application-type module hello`` imports this
module with Python's normal import system and serves its ``application``.
"""


def application(environ, start_response):
    body = f"Hello from the {__name__!r} module!\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]
