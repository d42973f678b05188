#!/bin/sh
# A root entrypoint: do the root-only set-up, then become the application.
set -e
# Root-only set-up. Skipped when the container already runs as the application's user
# (`docker run --user app`, Kubernetes runAsUser), where chown would fail under `set -e`.
if [ "$(id -u)" = 0 ]; then
    mkdir -p /home/app/data
    chown -R app:app /home/app/data
fi
cd /home/app
# sudrop itself needs no such guard: already app, it simply execs. --init reaps zombies,
# forwards signals to the whole process group and drains before exiting.
exec sudrop --init app "$@"
