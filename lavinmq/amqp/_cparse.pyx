# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of ``AMQPConnection._parse``'s frame loop.

Profiling the broker under a 1-publisher/1-consumer load put ~40 % of its time in the
pure-Python frame loop. This version walks the frame headers in C and handles a whole
Basic.Publish (method + header + single body frame, all in this read, same arguments as
the previous publish) without creating a Python object per frame. Anything else, and
every error, goes through the very same Python methods as the pure-Python path
(``_frame``, ``_fail``), so both paths behave identically; tests run the suite with and
without this module (``LAVINMQ_NO_EXTENSIONS=1``).
"""

from cpython.bytearray cimport PyByteArray_Resize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcmp

from lavinmq.amqp.errors import AMQPError, FrameError, SoftError
from lavinmq.amqp.events import PublishBatch
from lavinmq.amqp.properties import validate

cdef bytes EMPTY = b"\x00\x00"
cdef unsigned int BASIC_PUBLISH = 0x003C0028


cdef inline unsigned int be16(const unsigned char* p) noexcept:
    return (p[0] << 8) | p[1]


cdef inline unsigned int be32(const unsigned char* p) noexcept:
    return (<unsigned int>p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]


cdef inline unsigned long long be64(const unsigned char* p) noexcept:
    return (<unsigned long long>be32(p) << 32) | be32(p + 4)


def parse_frames(conn, bytes data, list events, Py_ssize_t pos):
    """Parse complete frames of ``data`` from ``pos``; returns the first unparsed offset.

    ``conn`` is the ``AMQPConnection`` whose state (partials, channel discards, last
    publish, frame_max...) is read and updated exactly as the Python loop does.
    """
    cdef const unsigned char* buf = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef unsigned long long frame_max = conn.frame_max
    cdef bint batching = conn.batch_publishes
    cdef unsigned int ftype, channel
    cdef unsigned long long size
    cdef Py_ssize_t end, after
    partials = conn._partials
    discarding = conn._discarding
    while n - pos >= 8:
        ftype = buf[pos]
        channel = be16(buf + pos + 1)
        size = be32(buf + pos + 3)
        if size + 8 > frame_max:
            conn._fail(events, 0, FrameError(f"frame size {size + 8} > frame_max {frame_max}"))
            return n
        end = pos + 7 + <Py_ssize_t>size
        if end >= n:
            conn._need = end + 1 - pos
            return pos
        if buf[end] != 0xCE:
            conn._fail(events, 0, FrameError("frame end byte is not 0xCE"))
            return n
        if (batching and ftype == 1 and size >= 4 and channel != 0
                and be32(buf + pos + 7) == BASIC_PUBLISH
                and channel not in partials and channel not in discarding):
            after = _fast_publish(conn, data, buf, n, pos, end, channel, frame_max, events)
            if after:
                pos = after
                continue
        try:
            conn._frame(ftype, channel, data, pos + 7, end, events)
        except AMQPError as exc:
            conn._fail(events, channel if isinstance(exc, SoftError) else 0, exc)
            if conn._failed:
                return n
        pos = end + 1
    conn._need = 8
    return pos


cdef Py_ssize_t _fast_publish(conn, bytes data, const unsigned char* buf, Py_ssize_t n,
                              Py_ssize_t pos, Py_ssize_t end, unsigned int channel,
                              unsigned long long frame_max, list events) except -1:
    """Handle the publish starting at ``pos`` when it is complete and simple.

    Returns the offset after its last frame, or 0 to let the generic path handle the
    method frame (first publish of a routing key, multi-frame body, split read, bad
    header: the generic path then raises the proper error).
    """
    cdef bytes last = conn._last_publish
    cdef Py_ssize_t plen = end - (pos + 11)
    method = conn._last_publish_method
    if method is None or PyBytes_GET_SIZE(last) != plen:
        return 0
    if memcmp(PyBytes_AS_STRING(last), buf + pos + 11, plen) != 0:
        return 0
    cdef Py_ssize_t hpos = end + 1
    if n - hpos < 8 or buf[hpos] != 2 or be16(buf + hpos + 1) != channel:
        return 0
    cdef unsigned long long hsize = be32(buf + hpos + 3)
    cdef Py_ssize_t hend = hpos + 7 + <Py_ssize_t>hsize
    if hsize < 14 or hsize + 8 > frame_max or hend >= n or buf[hend] != 0xCE:
        return 0
    if be16(buf + hpos + 7) != 60 or be16(buf + hpos + 9) != 0:
        return 0
    cdef unsigned long long body_size = be64(buf + hpos + 11)
    cdef unsigned long long max_body = conn.max_body_size
    if max_body and body_size > max_body:
        return 0
    cdef unsigned long long large_min = conn.large_min
    if large_min and body_size >= large_min:
        return 0  # assembled in a RecordBuffer by the generic path (amqp.large_body)
    cdef Py_ssize_t after = hend + 1
    cdef unsigned long long bsize
    cdef Py_ssize_t bend
    body = b""
    if body_size:
        if n - after < 8 or buf[after] != 3 or be16(buf + after + 1) != channel:
            return 0
        bsize = be32(buf + after + 3)
        bend = after + 7 + <Py_ssize_t>bsize
        if bsize != body_size or bsize + 8 > frame_max or bend >= n or buf[bend] != 0xCE:
            return 0
        body = PyBytes_FromStringAndSize(<const char*>buf + after + 7, <Py_ssize_t>bsize)
        after = bend + 1
    cdef Py_ssize_t props_len = <Py_ssize_t>hsize - 12
    cdef const unsigned char* pp = buf + hpos + 19
    if props_len == 2 and pp[0] == 0 and pp[1] == 0:
        props = EMPTY
    else:
        props = PyBytes_FromStringAndSize(<const char*>pp, props_len)
        try:
            validate(props)
        except AMQPError:
            return 0
    if events:
        batch = events[len(events) - 1]
        if type(batch) is PublishBatch and batch.channel == channel and batch.method is method:
            contents = batch.contents
            contents.append(props)
            contents.append(body)
            return after
    events.append(PublishBatch(channel, method, [props, body]))
    return after


def new_record_buffer(type cls, Py_ssize_t size):
    """An instance of the bytearray subclass ``cls`` of ``size`` bytes, not zero-filled:
    every byte of a body buffer is written before it is read (``bytearray(n)`` spent as
    long clearing a 1 MiB buffer as the kernel took to fill it)."""
    buf = cls()
    PyByteArray_Resize(buf, size)
    return buf
