#!/bin/sh
# PostgreSQL's entry, as the postgres user: initdb at the first start in
# $PGDATA (trust for local and pod connections: an e2e fixture, no
# secrets), then the server in front.
set -eu
: "${PGDATA:=/var/lib/postgresql/data/pgdata}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	mkdir -p "$PGDATA"
	chmod 700 "$PGDATA"
	initdb -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
	echo "host all all 0.0.0.0/0 trust" >>"$PGDATA/pg_hba.conf"
	echo "entry: initialised $PGDATA"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/run/postgresql
