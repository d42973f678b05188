#!/bin/sh
# An entrypoint in the shape of su-exec users' images (Alpine style), written for this suite:
# as root, hand /data to uid 10001 and run again as it through su-exec (here sudrop installed
# as su-exec); as any other user (docker run --user), run as it is.
set -e
if [ "$(id -u)" = 0 ]; then
    mkdir -p /data
    chown -R 10001:10001 /data
    exec su-exec 10001:10001 "$0" "$@"
fi
exec "$@"
