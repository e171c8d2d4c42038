#!/bin/sh
# redis's entry: no configuration file, everything on the command line;
# the data directory is /data (the working directory), owned by redis.
set -eu
exec redis-server --bind 0.0.0.0 --port 6379 --protected-mode no --dir /data --daemonize no "$@"
