#!/usr/bin/env bash
# Start a one-node Slurm cluster on this Debian machine (root), for tests/compare/test_slurm.py.
# Slurm's own daemons (slurmctld, slurmd) and munge from Debian's packages; state under /tmp/slurm.
set -euo pipefail
apt-get install -y -qq slurm-wlm >/dev/null
host=$(hostname -s)
mkdir -p /tmp/slurm/state /tmp/slurm/spool /tmp/slurm/log /etc/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=envdoctor-test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/tmp/slurm/state
SlurmdSpoolDir=/tmp/slurm/spool
SlurmctldPidFile=/tmp/slurm/slurmctld.pid
SlurmdPidFile=/tmp/slurm/slurmd.pid
SlurmctldLogFile=/tmp/slurm/log/slurmctld.log
SlurmdLogFile=/tmp/slurm/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
[ -f /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge && chown munge:munge /run/munge
pgrep -x munged >/dev/null || su -s /bin/sh munge -c munged
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && exit 0; sleep 1; done
echo "slurm did not come up; see /tmp/slurm/log" >&2
exit 1
