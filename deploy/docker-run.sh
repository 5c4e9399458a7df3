#!/bin/sh
# The agent on one Docker host, from the image `./dhrishti image` builds (dhrishti:local).
# Host PID and network namespaces: it watches the host's sockets and serves on the
# host's loopback (127.0.0.1:7979); give --host and DHRISHTI_TOKEN to serve further.
# Capabilities instead of --privileged: SYS_ADMIN loads and attaches the probes
# (Docker builds that know CAP_BPF and CAP_PERFMON, on kernels 5.8+, can use
# `--cap-add BPF --cap-add PERFMON` instead), SYS_PTRACE and DAC_READ_SEARCH read
# other processes' /proc entries (owners of sockets). Kernels before 5.11 charge BPF
# maps to the locked-memory limit: add `--cap-add SYS_RESOURCE` there.
# Docker's default seccomp profile stays on.
# Extra arguments go to `dhrishti run` (e.g. --remote-write URL); DOCKER_SOCKET names another Docker socket.
exec docker run -d --name dhrishti --restart unless-stopped \
  --pid host --network host \
  --cap-drop ALL --cap-add SYS_ADMIN --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH \
  --security-opt apparmor=unconfined \
  -v /sys/kernel/tracing:/sys/kernel/tracing:ro \
  -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
  -v "${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock:ro" \
  -v dhrishti-data:/var/lib/dhrishti \
  dhrishti:local run --hostname "$(hostname)" "$@"
