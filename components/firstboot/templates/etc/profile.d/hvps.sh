# Managed by hardened-vps. Login shells: umask as login.defs (deploys set the modes nginx needs), no core
# dumps, idle shells close after 15 min (CIS 5.4.5; ClientAlive only catches dead links). Use tmux to idle.
umask 027
ulimit -c 0
readonly TMOUT=900
export TMOUT
