# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twins of ``lavinmq.broker.message.encode_records`` and ``deliver_batch``.

Both are pure byte shuffling done once per message on the hot path: building the stored
record of a publish, and framing a run of deliveries into one buffer for the socket.
The pure-Python versions in ``message.py`` define the behaviour; tests run both.
"""

import time

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcpy

from lavinmq.amqp.properties import peek_delivery_mode


cdef inline void put16(unsigned char* p, unsigned int v) noexcept:
    p[0] = (v >> 8) & 0xFF
    p[1] = v & 0xFF


cdef inline void put32(unsigned char* p, unsigned long long v) noexcept:
    p[0] = (v >> 24) & 0xFF
    p[1] = (v >> 16) & 0xFF
    p[2] = (v >> 8) & 0xFF
    p[3] = v & 0xFF


cdef inline void put64(unsigned char* p, unsigned long long v) noexcept:
    put32(p, v >> 32)
    put32(p + 4, v & 0xFFFFFFFF)


cdef inline unsigned int be32(const unsigned char* p) noexcept:
    return (<unsigned int>p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]


def encode_records(bytes exchange_rk, list contents, long long timestamp=0):
    """See ``lavinmq.broker.message.encode_records``."""
    if not timestamp:
        timestamp = <long long>(time.time() * 1000)
    cdef Py_ssize_t er_len = PyBytes_GET_SIZE(exchange_rk)
    cdef const char* er = PyBytes_AS_STRING(exchange_rk)
    cdef Py_ssize_t i, count = len(contents)
    cdef Py_ssize_t plen, blen
    cdef bytes props, record
    cdef unsigned char* out
    cdef list records = []
    persistent = False
    for i in range(0, count - 1, 2):
        props = contents[i]
        body = contents[i + 1]
        plen = PyBytes_GET_SIZE(props)
        if type(body) is not bytes:  # a large body received into a RecordBuffer
            records.append(_encode_view(timestamp, exchange_rk, props, body))
        else:
            blen = PyBytes_GET_SIZE(<bytes>body)
            record = PyBytes_FromStringAndSize(NULL, 12 + er_len + plen + blen)
            out = <unsigned char*>PyBytes_AS_STRING(record)
            put64(out, <unsigned long long>timestamp)
            memcpy(out + 8, er, er_len)
            put32(out + 8 + er_len, <unsigned long long>plen)
            memcpy(out + 12 + er_len, PyBytes_AS_STRING(props), plen)
            memcpy(out + 12 + er_len + plen, PyBytes_AS_STRING(<bytes>body), blen)
            records.append(record)
        if not persistent and plen >= 2 and (<unsigned char*>PyBytes_AS_STRING(props))[0] & 0x10:
            persistent = peek_delivery_mode(props) == 2
    return records, persistent


def _encode_view(long long timestamp, bytes exchange_rk, bytes props, body):
    from lavinmq.broker.message import encode_record  # not at import: message imports us

    return encode_record(exchange_rk, props, body, timestamp)


cdef Py_ssize_t _framed_size(const unsigned char* rec, Py_ssize_t rlen, Py_ssize_t ctag_len,
                             Py_ssize_t chunk) noexcept:
    cdef Py_ssize_t ex_end = 9 + rec[8]
    cdef Py_ssize_t er_end = ex_end + 1 + rec[ex_end]
    cdef Py_ssize_t plen = be32(rec + er_end)
    cdef Py_ssize_t body = rlen - (er_end + 4 + plen)
    cdef Py_ssize_t size = (8 + 4 + ctag_len + 9 + er_end - 8) + (8 + 12 + plen)
    if body > 0:
        size += body + 8 * ((body + chunk - 1) // chunk)
    return size


def deliver_batch(unsigned int channel, bytes ctag, unsigned long long first_tag,
                  list records, list redelivered, unsigned long long frame_max):
    """See ``lavinmq.broker.message.deliver_batch``."""
    cdef Py_ssize_t chunk = <Py_ssize_t>frame_max - 8
    cdef Py_ssize_t ctag_len = PyBytes_GET_SIZE(ctag)
    cdef Py_ssize_t i, count = len(records), total = 0
    cdef bytes rec
    for i in range(count):
        if type(records[i]) is not bytes:  # a store's held record (a view): rare
            records = [r if type(r) is bytes else bytes(r) for r in records]
            break
    for i in range(count):
        rec = records[i]
        total += _framed_size(<const unsigned char*>PyBytes_AS_STRING(rec),
                              PyBytes_GET_SIZE(rec), ctag_len, chunk)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, total)
    cdef unsigned char* o = <unsigned char*>PyBytes_AS_STRING(out)
    for i in range(count):
        rec = records[i]
        o = _frame_one(o, channel, ctag, first_tag + <unsigned long long>i,
                       redelivered[i] is True, rec, chunk)
    return out


cdef unsigned char* _frame_one(unsigned char* o, unsigned int channel, bytes ctag,
                               unsigned long long tag, bint redelivered, bytes record,
                               Py_ssize_t chunk) noexcept:
    cdef const unsigned char* rec = <const unsigned char*>PyBytes_AS_STRING(record)
    cdef Py_ssize_t rlen = PyBytes_GET_SIZE(record)
    cdef Py_ssize_t ctag_len = PyBytes_GET_SIZE(ctag)
    cdef Py_ssize_t ex_end = 9 + rec[8]
    cdef Py_ssize_t er_end = ex_end + 1 + rec[ex_end]
    cdef Py_ssize_t plen = be32(rec + er_end)
    cdef Py_ssize_t pstart = er_end + 4
    cdef Py_ssize_t bstart = pstart + plen
    cdef Py_ssize_t body = rlen - bstart
    cdef Py_ssize_t msize = 4 + ctag_len + 9 + er_end - 8
    cdef Py_ssize_t part
    o[0] = 1
    put16(o + 1, channel)
    put32(o + 3, <unsigned long long>msize)
    o[7] = 0; o[8] = 60; o[9] = 0; o[10] = 60
    memcpy(o + 11, PyBytes_AS_STRING(ctag), ctag_len)
    o += 11 + ctag_len
    put64(o, tag)
    o[8] = 1 if redelivered else 0
    memcpy(o + 9, rec + 8, er_end - 8)
    o += 9 + er_end - 8
    o[0] = 0xCE
    o[1] = 2
    put16(o + 2, channel)
    put32(o + 4, <unsigned long long>(12 + plen))
    o[8] = 0; o[9] = 60; o[10] = 0; o[11] = 0
    put64(o + 12, <unsigned long long>body)
    memcpy(o + 20, rec + pstart, plen)
    o += 20 + plen
    o[0] = 0xCE
    o += 1
    while body > 0:
        part = chunk if body > chunk else body
        o[0] = 3
        put16(o + 1, channel)
        put32(o + 3, <unsigned long long>part)
        memcpy(o + 7, rec + bstart, part)
        o[7 + part] = 0xCE
        o += 8 + part
        bstart += part
        body -= part
    return o
