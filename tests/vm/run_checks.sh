#!/bin/bash
# Level (c), inside the test VM (booted by tests/sources/test_ble_real_stack.py with virtme-ng):
# bring up real BlueZ on the kernel's virtual HCI (hci_vhci), then run tests/vm/checks.py.
#
#   run_checks.sh PYTHON WORK [checks.py options...]
#
# PYTHON: the interpreter with the project installed; WORK: a folder shared with the host
# (--rwdir) that receives booted (written first: the VM is up), results.json, the logs and the
# recorded sessions, and from the host budget_s (seconds the checks may take). The exit code is that of the checks (also written to WORK/exit_code).
set -u
PYTHON=$1
WORK=$2
shift 2
mkdir -p "$WORK"
date +%s.%N > "$WORK/booted"
cd "$(dirname "$0")/../.." || exit 2
# the checks test this checkout, whatever the environment has installed
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

fail_setup() {
    # the VM is up but BlueZ is not: a failed check, not a skip
    printf '{"checks": {"bluez_up": {"ok": false, "detail": "%s"}}}\n' "$1" > "$WORK/results.json"
    echo "$1" >&2
    echo 3 > "$WORK/exit_code"
    exit 3
}

modprobe hci_vhci || fail_setup "modprobe hci_vhci failed"
[ -c /dev/vhci ] || fail_setup "no /dev/vhci after loading hci_vhci"
mkdir -p /run/dbus
dbus-daemon --system --fork --nopidfile || fail_setup "dbus-daemon --system did not start"
BLUETOOTHD=""
for candidate in /usr/libexec/bluetooth/bluetoothd /usr/lib/bluetooth/bluetoothd \
    "$(command -v bluetoothd || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then BLUETOOTHD=$candidate; break; fi
done
[ -n "$BLUETOOTHD" ] || fail_setup "bluetoothd not found (Debian package bluez)"
"$BLUETOOTHD" -n > "$WORK/bluetoothd.log" 2>&1 &
BLUETOOTHD_PID=$!
# wait until bluetoothd owns org.bluez on the system bus
for _ in $(seq 1 100); do
    if dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.bluez 2>/dev/null | grep -q "true"; then
        break
    fi
    sleep 0.1
done
date +%s.%N > "$WORK/bluez_up"

# the checks' time budget, written by the host once it saw this VM boot (it scales with how
# long the boot took)
BUDGET=()
for _ in $(seq 1 100); do
    if [ -s "$WORK/budget_s" ]; then BUDGET=(--budget-s "$(cat "$WORK/budget_s")"); break; fi
    sleep 0.1
done
# imported as a module (not run as a script) so that checks.py too is loaded from the
# bytecode compiled on the host before boot (tests/vm/precompile.py)
date +%s.%N > "$WORK/python_started"
"$PYTHON" -c "import sys; sys.path.insert(0, 'tests/vm'); import checks; sys.exit(checks.main())" \
    --out "$WORK/results.json" --work "$WORK" "${BUDGET[@]}" "$@" > "$WORK/checks.log" 2>&1
code=$?
echo "$code" > "$WORK/exit_code"
ps -eo pid,comm,time > "$WORK/ps.log" 2>&1
kill "$BLUETOOTHD_PID" 2>/dev/null
dmesg > "$WORK/dmesg.log" 2>&1
sync
exit "$code"
