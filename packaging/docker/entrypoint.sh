#!/bin/sh
# A root entrypoint: do the root-only set-up, then become the application.
# Under `runAsUser` (already the target user) sudrop simply execs: no guard needed.
set -e
if [ "$(id -u)" = 0 ]; then
    mkdir -p /home/app/data
    chown app:app /home/app/data
fi
# --init: reap zombies, forward signals to the whole group, drain before exiting.
exec sudrop --init app "$@"
