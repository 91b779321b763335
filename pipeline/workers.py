"""Worker processes for many builds (``room3d batch``, ``room3d serve``): started once with the build's modules
loaded, one thread per library each, and gone with the process that made them.

Workers come from a forkserver (``spawn`` where there is none): the server process is single-threaded and has the
build's modules imported once (``preload``); each worker is a cheap fork of it, not a fork of a caller with
threads. A worker whose caller dies (killed, out of memory) exits within :data:`ORPHAN_CHECK_S`: nothing is left
running behind a killed batch or a stopped server.
"""

from __future__ import annotations

import os
import threading
import time

#: How often (seconds) a worker checks that the process that made it is still there.
ORPHAN_CHECK_S = 1.0
#: Thread-count variables of numpy's BLAS and OpenMP, one thread each in a worker.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def make_pool(jobs: int, preload: tuple[str, ...] = ("pipeline.build",)):
    """A ``ProcessPoolExecutor`` of ``jobs`` workers (see the module's text)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        context.set_forkserver_preload(list(preload))
    # read when the forkserver starts and imports numpy: one BLAS thread per worker (only unset ones are set)
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_setup, initargs=(os.getpid(),))


def stop_pool(pool, wait: bool = True) -> None:
    """Shut ``pool`` down; without ``wait``, its workers are also terminated (a build in flight is abandoned)."""
    pool.shutdown(wait=wait, cancel_futures=True)
    if not wait:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            if process.is_alive():
                process.terminate()


def _setup(caller_pid: int) -> None:
    """Each worker: OpenCV on one thread, the build's modules imported, and a watch on the caller."""
    import cv2

    cv2.setNumThreads(1)
    from . import build  # noqa: F401  (imported once per worker, not once per photo)

    threading.Thread(target=_exit_when_orphaned, args=(caller_pid,), daemon=True, name="room3d-orphan-check").start()


def _exit_when_orphaned(caller_pid: int) -> None:
    while True:
        time.sleep(ORPHAN_CHECK_S)
        try:
            os.kill(caller_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # a process of another user took the id: ours is gone
            os._exit(1)
