#!/bin/sh
# A stand-in service: it journals each start and, on SIGTERM, a clean stop, as the uid it
# runs as, then exits 0.
echo "start $(id -u)" >> /data/journal
trap 'echo "clean stop $(id -u)" >> /data/journal; exit 0' TERM
echo ready
while :; do
    sleep 1 &
    wait $!
done
