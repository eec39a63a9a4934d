"""glibc's malloc told to keep freed memory at the top of its heaps, for the CLI's own process.

TensorFlow's CPU kernels allocate and free tensors of a few MB on every step from many threads.
glibc hands memory above 128 KB at the top of a heap back to the kernel as soon as it is freed
(`M_TOP_PAD`), so the next step's tensors fault their pages in again. On the 2-core AMD EPYC here,
one epoch of bilstm on 4,000 GoEmotions texts took 3.45 million page faults and 16.8 s of system
time by default, and about 0.8 million and 7.5 s with a 64 MB pad (BENCHMARKS.md, "Where the CPU
went"). The pad is what a heap may keep, not what it takes: memory in use is unchanged.

Setting any malloc parameter turns off glibc's sliding mmap threshold (which rises to 32 MB as big
blocks are freed), and every block over 128 KB would then be mmapped and faulted in afresh: so the
threshold is set to that 32 MB too. `MALLOC_TOP_PAD_` or `MALLOC_MMAP_THRESHOLD_` in the
environment (glibc's own variables) leave it all to the user, and other C libraries are left alone.
"""

import ctypes
import os
import sys

M_TOP_PAD, M_MMAP_THRESHOLD = -2, -3  # glibc malloc.h
TOP_PAD = 64 << 20
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit machines


def keep_freed_memory(top_pad=TOP_PAD, mmap_threshold=MMAP_THRESHOLD):
    """Set glibc's M_TOP_PAD and M_MMAP_THRESHOLD (bytes); returns True when both were set."""
    if not sys.platform.startswith("linux") or {"MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_"} & set(os.environ):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, ctypes.c_int(mmap_threshold))
                    and libc.mallopt(M_TOP_PAD, ctypes.c_int(top_pad)))
    except (OSError, AttributeError):  # not glibc (musl, say)
        return False
