"""A WSGI application that says it answered, so you can tell it from Apache."""


def application(environ, start_response):
    path = environ.get("PATH_INFO") or "/"
    body = f"The application answered for {path}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]
