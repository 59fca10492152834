"""Native resources: a descriptor and malloc'd memory that are never released."""

import ctypes
import ctypes.util
import os

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.memset.restype = ctypes.c_void_p
_libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
_libc.free.argtypes = [ctypes.c_void_p]


def open_config():
    """Opens a file and forgets to close it."""
    fd = os.open(os.devnull, os.O_RDONLY)
    return fd >= 0


def native_buffer(size=1 << 20):
    """malloc without free."""
    p = _libc.malloc(size)
    _libc.memset(p, 1, size)
    return p is not None


def native_buffer_freed(size=1 << 20):
    p = _libc.malloc(size)
    _libc.memset(p, 1, size)
    _libc.free(p)
    return True
