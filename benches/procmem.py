"""Memory of running processes, from /proc, for the benchmarks: a field of
a process's status, and a sampler that keeps the peak of a measure while a
job runs."""
import threading


def status_kb(pid, field):
    """`field` (VmRSS, VmHWM, RssAnon...) of /proc/<pid>/status in kB; 0 for
    a process that is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Peaks:
    """Samples `measure()` (a dict of kB) every 50 ms on a thread while the
    `with` block runs, keeping each key's highest value; `start` holds the
    first sample."""

    def __init__(self, measure):
        self.measure = measure
        self.start = measure()
        self.peak = dict(self.start)
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            for k, v in self.measure().items():
                self.peak[k] = max(self.peak.get(k, 0), v)
            self.stop.wait(0.05)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join()
