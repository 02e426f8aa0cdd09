# cython: language_level=3
"""Compiled twin of ``Reading``'s large reads: the socket reads into a ``bytes`` object.

While large bodies arrive the broker reads up to 2 MiB at a time. The pure-Python path
reads into a shared buffer and copies what arrived into a new ``bytes`` object for the
codec. Here the read goes into that ``bytes`` object itself, allocated without being
zero-filled: one copy of every byte fewer (with 1 MiB bodies that copy was 5% of the
broker's time).
"""

from cpython.buffer cimport PyBuffer_FillInfo
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF


cdef extern from "Python.h":
    void Py_SET_SIZE(object o, Py_ssize_t size)


cdef class BytesReadTarget:
    """A writable buffer of ``size`` bytes for one read; ``take(n)`` gives what the read
    put in as ``bytes``. The buffer belongs to the read until ``take``: nothing may write
    into it afterwards (uvloop releases it only after ``buffer_updated`` returns)."""

    cdef PyObject* _buf  # a bytes object only this instance references, or NULL
    cdef readonly Py_ssize_t size

    def __cinit__(self, Py_ssize_t size):
        if size <= 0:
            raise ValueError("size must be positive")
        self.size = size
        self._buf = NULL

    def __dealloc__(self):
        Py_XDECREF(self._buf)

    def __getbuffer__(self, Py_buffer* view, int flags):
        if self._buf == NULL:
            fresh = PyBytes_FromStringAndSize(NULL, self.size)
            Py_INCREF(fresh)
            self._buf = <PyObject*>fresh
        PyBuffer_FillInfo(view, self, PyBytes_AS_STRING(<object>self._buf), self.size, 0, flags)

    def __releasebuffer__(self, Py_buffer* view):
        pass

    def take(self, Py_ssize_t n):
        """The first ``n`` bytes of the buffer.

        A read of at least half the buffer gets the buffer itself, its length cut to
        ``n`` (its memory cannot move: uvloop still holds it), and the next read a fresh
        one. A smaller read is copied out: the buffer is kept for the next read, and no
        2 MiB block lives on for a few bytes.
        """
        if self._buf == NULL or n < 0 or n > self.size:
            raise ValueError("no read of that size into this buffer")
        cdef char* data = PyBytes_AS_STRING(<object>self._buf)
        if n < self.size // 2:
            return PyBytes_FromStringAndSize(data, n)
        data[n] = 0  # bytes objects end in a NUL byte
        Py_SET_SIZE(<object>self._buf, n)
        result = <object>self._buf
        Py_XDECREF(self._buf)
        self._buf = NULL
        return result
