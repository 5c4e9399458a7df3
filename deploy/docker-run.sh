#!/bin/sh
# The agent on one Docker host, from the image `./dhrishti image` builds (dhrishti:local).
# Host PID and network namespaces: it watches the host's sockets and serves on the
# host's loopback (127.0.0.1:7979); give --host and DHRISHTI_TOKEN to serve further.
# Capabilities instead of --privileged: BPF and PERFMON load and attach the probes,
# SYS_RESOURCE raises the locked-memory limit for maps, SYS_PTRACE and
# DAC_READ_SEARCH read other processes' /proc entries (owners of sockets).
# Kernels older than 5.8 have no CAP_BPF: use --privileged there.
exec docker run -d --name dhrishti --restart unless-stopped \
  --pid host --network host \
  --cap-drop ALL --cap-add BPF --cap-add PERFMON --cap-add SYS_RESOURCE --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  -v /sys/kernel/tracing:/sys/kernel/tracing:ro \
  -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
  -v /var/run/docker.sock:/var/run/docker.sock:ro \
  -v dhrishti-data:/var/lib/dhrishti \
  dhrishti:local run --hostname "$(hostname)" "$@"
