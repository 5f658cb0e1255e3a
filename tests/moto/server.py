"""A moto S3 server on 127.0.0.1 that handles one request at a time.

moto's stock server is threaded and checks a PUT's precondition
(If-None-Match / If-Match) before it stores the object, so two concurrent
conditional PUTs could both pass. Served single-threaded, the check and the
store of one request finish before the next request is read, which is what a
real S3 guarantees for conditional writes.

Prints the port it listens on as the first line of stdout, then serves until
killed. Usage: python server.py [PORT [HOST]]   (0 or nothing: a free port;
HOST defaults to 127.0.0.1)
"""

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        host, port, app, threaded=False, request_handler=MotoRequestHandler
    )
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
