"""A WSGI application whose callable is not called ``application``.

mod_wsgi looks for ``application`` unless told otherwise with
``--callable-object greet``.
"""


def greet(environ, start_response):
    who = environ.get("QUERY_STRING") or "stranger"
    body = f"Greetings, {who}, from greet()!\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]
