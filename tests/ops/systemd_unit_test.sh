#!/usr/bin/env bash
# deploy/systemd/rmsd.service: `systemd-analyze verify` accepts it and its sandbox scores at most
# 2.0 ("OK") in `systemd-analyze security`; the rms.toml it points at loads in rmsd. The unit
# names /usr/bin/rmsd, which verify requires to exist: the check uses a copy naming this build's.
source "$(dirname "$0")/lib.sh"
require_tool systemd-analyze

unit="$ops_tmp/rmsd.service"
sed "s#^ExecStart=/usr/bin/rmsd #ExecStart=$RMS_RMSD #" "$deploy/systemd/rmsd.service" >"$unit"
grep -q "^ExecStart=$RMS_RMSD " "$unit" || fail "no ExecStart=/usr/bin/rmsd line to rewrite"
grep -qx "Type=notify" "$unit" || fail "the unit must be Type=notify"
# verify exits 0 on an unknown key or a bad value, with a warning: any output is a failure.
systemd-analyze verify "$unit" >"$ops_tmp/verify.txt" 2>&1 ||
    { cat "$ops_tmp/verify.txt" >&2; fail "systemd-analyze verify failed"; }
[ ! -s "$ops_tmp/verify.txt" ] || { cat "$ops_tmp/verify.txt" >&2; fail "systemd-analyze verify warns"; }
systemd-analyze security --offline=true --threshold=20 --no-pager "$unit" \
    >"$ops_tmp/security.txt" || { cat "$ops_tmp/security.txt" >&2; fail "exposure above 2.0"; }
tail -n 1 "$ops_tmp/security.txt"

# The example configuration loads (listeners moved to free loopback ports) and rmsd stops cleanly.
start_rmsd toml --config "$deploy/systemd/rms.toml"
stop_rmsd
echo "systemd unit: ok"
