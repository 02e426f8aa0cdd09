"""Topic exchange: dot-separated words, ``*`` matches one word, ``#`` zero or more.

Patterns live in a trie keyed by word, so matching costs O(words), not O(bindings);
results are cached per routing key until the bindings change (a topic exchange with
10,000 bindings is on the benchmark list).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lavinmq.amqp.types import FieldTable
from lavinmq.broker.exchange.base import Destination, Exchange, RefCounted

CACHE_SIZE = 4096


class _Node:
    __slots__ = ("children", "dests")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.dests: RefCounted | None = None


class TopicExchange(Exchange):
    TYPE = "topic"
    __slots__ = ("_cache", "_root")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._root = _Node()
        self._cache: dict[str, tuple[Destination, ...]] = {}

    def match(self, routing_key: str, headers: FieldTable | None) -> Iterable[Destination]:
        hit = self._cache.get(routing_key)
        if hit is not None:
            return hit
        out: dict[Destination, None] = {}
        _walk(self._root, routing_key.split("."), 0, out)
        result = tuple(out)
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[routing_key] = result
        return result

    def _index_add(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        node = self._root
        for word in routing_key.split("."):
            node = node.children.setdefault(word, _Node())
        if node.dests is None:
            node.dests = RefCounted()
        node.dests.add(dest)
        self._cache.clear()

    def _index_remove(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        path = [self._root]
        words = routing_key.split(".")
        for word in words:
            path.append(path[-1].children[word])
        leaf = path[-1]
        assert leaf.dests is not None
        if leaf.dests.remove(dest):
            leaf.dests = None
        for depth in range(len(words), 0, -1):
            node = path[depth]
            if node.children or node.dests is not None:
                break
            del path[depth - 1].children[words[depth - 1]]
        self._cache.clear()


def _walk(node: _Node, words: list[str], i: int, out: dict[Destination, None]) -> None:
    children = node.children
    if i == len(words):
        if node.dests is not None:
            out.update(dict.fromkeys(node.dests))
        hash_node = children.get("#")
        if hash_node is not None:
            _walk(hash_node, words, i, out)
        return
    child = children.get(words[i])
    if child is not None:
        _walk(child, words, i + 1, out)
    child = children.get("*")
    if child is not None:
        _walk(child, words, i + 1, out)
    child = children.get("#")
    if child is not None:
        for j in range(i, len(words) + 1):
            _walk(child, words, j, out)
