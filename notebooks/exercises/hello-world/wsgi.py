"""The smallest useful WSGI application: it answers every request with a greeting.

mod_wsgi looks for a callable named ``application`` in this file. It is called
once per request with the request's details (``environ``) and a function to
start the response with (``start_response``), and returns the body as bytes.
"""


def application(environ, start_response):
    body = b"Hello World!\n"
    start_response(
        "200 OK",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
