"""A WSGI application that writes a line to the server's error log on every request.

Anything written to ``environ["wsgi.errors"]`` (or printed to ``sys.stderr``)
ends up in Apache's error log, with Apache's time stamp and process id in front.
"""


def application(environ, start_response):
    path = environ.get("PATH_INFO") or "/"
    print(f"handling {environ['REQUEST_METHOD']} {path}", file=environ["wsgi.errors"])
    body = f"You asked for {path}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]
