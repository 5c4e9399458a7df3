#!/bin/sh
# The agent on one Docker host, from the image `./dhrishti image` builds (dhrishti:local).
# Host PID and network namespaces: it watches the host's sockets and serves on the
# host's loopback (127.0.0.1:7979). To serve further, give --host and a token:
#   DHRISHTI_TOKEN_FILE=/etc/dhrishti/token sh docker-run.sh --host 0.0.0.0
# mounts that file read-only and passes --token-file (the token shows nowhere), or
#   DHRISHTI_TOKEN=... sh docker-run.sh --host 0.0.0.0
# hands the variable to the container (`docker inspect` shows it).
# Capabilities instead of --privileged: SYS_ADMIN loads and attaches the probes
# (Docker builds that know CAP_BPF and CAP_PERFMON, on kernels 5.8+, can use
# `--cap-add BPF --cap-add PERFMON` instead), SYS_PTRACE and DAC_READ_SEARCH read
# other processes' /proc entries (owners of sockets). Kernels before 5.11 charge BPF
# maps to the locked-memory limit: add `--cap-add SYS_RESOURCE` there.
# Docker's default seccomp profile stays on.
# Extra arguments go to `dhrishti run` (e.g. --remote-write URL); DOCKER_SOCKET names another Docker socket;
# DHRISHTI_DOCKER_ARGS adds options of `docker run` (split on spaces).
# A stop writes the last history interval and detaches the probes: it gets 30 s, not Docker's 10.
# shellcheck disable=SC2086
exec docker run -d --name dhrishti --restart unless-stopped --stop-timeout 30 \
  --pid host --network host \
  --cap-drop ALL --cap-add SYS_ADMIN --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH \
  --security-opt apparmor=unconfined \
  -v /sys/kernel/tracing:/sys/kernel/tracing:ro \
  -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
  -v "${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock:ro" \
  -v dhrishti-data:/var/lib/dhrishti \
  ${DHRISHTI_TOKEN:+-e DHRISHTI_TOKEN} \
  ${DHRISHTI_TOKEN_FILE:+-v "$DHRISHTI_TOKEN_FILE:/run/dhrishti/token:ro"} \
  $DHRISHTI_DOCKER_ARGS \
  dhrishti:local run --hostname "$(hostname)" ${DHRISHTI_TOKEN_FILE:+--token-file /run/dhrishti/token} "$@"
