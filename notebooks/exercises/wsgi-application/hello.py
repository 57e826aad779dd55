"""A WSGI application that says which module name its code runs under.

Served as a script file (``mod_wsgi-express start-server hello.py``), its code
runs in a module that mod_wsgi-express names ``__wsgi__``; served as a module
(``--application-type module hello``), it is imported as ``hello``.
"""


def application(environ, start_response):
    body = f"Hello from the {__name__!r} module!\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]


if __name__ == "__main__":
    # Only `python3 hello.py` runs this: a development server from the standard
    # library. Under mod_wsgi the module is never "__main__", so it never runs.
    from wsgiref.simple_server import make_server

    make_server("localhost", 8051, application).serve_forever()
