"""Memory figures of a peer process, read from /proc, for the benchmark's peer scripts."""
import re


def status_bytes(field):
    """A /proc/self/status field (VmRSS, VmHWM…) in bytes."""
    with open('/proc/self/status') as status:
        match = re.search(r'^%s:\s+(\d+) kB' % field, status.read(), re.M)
    return int(match.group(1)) * 1024


def reset_peak():
    """Resets VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        with open('/proc/self/clear_refs', 'w') as refs:
            refs.write('5')
        return True
    except OSError:
        return False
