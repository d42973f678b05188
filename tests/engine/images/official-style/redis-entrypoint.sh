#!/bin/sh
# An entrypoint in the shape the official server images use, written for this suite: options
# alone mean the server; as root, prepare the data directory and run again as the service
# user through gosu (here sudrop installed as gosu); as any other user (docker run --user),
# run as it is.
set -e
case "$1" in
    -*|*.conf) set -- redis-server "$@" ;;
esac
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find /data \! -user redis -exec chown redis '{}' +
    umask 0077
    exec gosu redis "$0" "$@"
fi
umask 0077
exec "$@"
