#!/bin/sh
# An entrypoint in the shape the official server images use, written for this suite, for
# Debian's mosquitto: options alone mean the broker; as root, hand the persistence directory
# to the mosquitto user and run again as it through gosu (here sudrop installed as gosu); as
# any other user (docker run --user), run as it is.
set -e
if [ "${1#-}" != "$1" ]; then
    set -- mosquitto -c /mosquitto/config/mosquitto.conf "$@"
fi
if [ "$1" = mosquitto ] && [ "$(id -u)" = 0 ]; then
    mkdir -p /mosquitto/data
    find /mosquitto/data \! -user mosquitto -exec chown mosquitto:mosquitto '{}' +
    exec gosu mosquitto "$0" "$@"
fi
umask 0027
exec "$@"
