"""A tiny WSGI app on the standard library's wsgiref server: answers every
GET with a known body so a test can tell it is this app that answered."""
from wsgiref.simple_server import make_server

BODY = b"nri-guard e2e pyweb\n"


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]


if __name__ == "__main__":
    make_server("0.0.0.0", 8080, app).serve_forever()
