#!/bin/sh
# The official redis image's entrypoint, as it behaves (written for this stand-in): options
# alone mean redis-server; as root, hand /data to redis and run again as redis through gosu.
set -e
case "$1" in
    -*|*.conf) set -- redis-server "$@" ;;
esac
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    chown -R redis /data
    exec gosu redis "$0" "$@"
fi
exec "$@"
