"""A WSGI application that tells which process served it, and can get stuck.

``/`` answers with the daemon process's id and what WSGI says about processes
and threads; ``/stuck`` never finishes in time, like a request waiting on a
service that does not answer.
"""

import os
import time


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/stuck":
        time.sleep(600)
    body = (
        f"process {os.getpid()}, "
        f"multiprocess={environ['wsgi.multiprocess']}, "
        f"multithread={environ['wsgi.multithread']}\n"
    ).encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [body]
