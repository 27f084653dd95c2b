"""Quiet TensorFlow's native (C++) log lines on the command line.

TensorFlow 2.21 logs through absl before any flag is read, so ``TF_CPP_MIN_LOG_LEVEL`` no longer silences
lines such as ``I0000 ... port.cc:153] oneDNN custom operations are on`` or ``E0000 ... failed call to
cuInit``. ``quiet_native_logs()`` routes file descriptor 2 (where native code writes) through a filter that
drops absl-formatted lines and passes everything else, while Python's own stderr (messages, warnings,
tracebacks) keeps writing straight to the terminal. ``ZOO_NATIVE_LOGS=1`` turns the filter off.
"""
import atexit
import os
import re
import sys
import threading

NATIVE_LINE = re.compile(rb"^([IWE]\d{4} [\d:.]+ +\d+ [^\]]+\] |WARNING: All log messages before absl|"
                         rb"To enable the following instructions: )")


def quiet_native_logs():
    """Installs the filter for the rest of the process (call once, before TensorFlow is imported)."""
    if os.environ.get("ZOO_NATIVE_LOGS"):
        return
    try:
        real = os.dup(2)
        read_end, write_end = os.pipe()
    except OSError:
        return
    sys.stderr.flush()
    sys.stderr = open(os.dup(real), "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump():
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if not NATIVE_LINE.match(line):
                    os.write(real, line)

    thread = threading.Thread(target=pump, name="native-log-filter", daemon=True)
    thread.start()

    def restore():
        os.dup2(real, 2)  # closes the pipe's last write end: the pump drains it and ends
        thread.join(timeout=2)

    atexit.register(restore)
