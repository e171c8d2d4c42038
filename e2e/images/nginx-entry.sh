#!/bin/sh
# nginx's entry: check the configuration, then run the master in front.
set -eu
nginx -t -q
exec nginx
