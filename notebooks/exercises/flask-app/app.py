"""A small Flask application: its WSGI callable is ``app``, its files are in ``static``."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello from Flask!\n"


@app.route("/share/<int:people>")
def share(people):
    return f"Everyone gets {100 / people:.2f}\n"
