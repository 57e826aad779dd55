"""A WSGI application whose greeting comes from the environment variable GREETING."""

import os


def application(environ, start_response):
    body = f"{os.environ.get('GREETING', 'Hello')} from the service!\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]
