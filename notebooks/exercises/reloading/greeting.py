"""The text the application answers with: edit it while the server runs."""


def text():
    return "Hello from the first version of greeting.py"
