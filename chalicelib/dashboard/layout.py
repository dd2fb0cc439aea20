"""A layered (Sugiyama-style) layout of nested DAGs. Pure: blocks in, coordinates out.

Each group (a sub-DAG, loop, condition or exit-handler) is laid out on its own, inside out, and then placed as
one box in its parent's layout, so an edge never leaves the group it belongs to. Within one group:

1. layers by longest path from the sources (sources without predecessors are pulled down next to their first
   consumer);
2. edges spanning several layers get one dummy vertex per layer crossed, so they run in gaps between nodes;
3. crossing reduction by barycenter sweeps, keeping the ordering with the fewest crossings;
4. x by repeated sweeps that move each vertex towards the mean of its neighbours, solved per layer as an
   isotonic regression (pool adjacent violators) under the minimum separation, so nodes never overlap;
5. nodes are top-aligned in their layer's band; an edge runs straight down inside a band (under its source,
   through its dummies, above its target) and crosses from band to band only in the empty gap between bands.

Edge points are given as a polyline: consecutive points with the same x are a vertical segment inside a band,
others a crossing of a gap (drawn as a curve that stays inside the box the two points span).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

TASK_WIDTH = 180.0
TASK_HEIGHT = 48.0
NODE_GAP = 28.0
DUMMY_WIDTH = 8.0
DUMMY_GAP = 10.0
LAYER_GAP = 44.0
GROUP_PADDING = 14.0
GROUP_HEADER = 40.0  # title line + state line
GRID_GAP = 16.0
ORDER_SWEEPS = 8
POSITION_SWEEPS = 8

Point = tuple[float, float]


@dataclasses.dataclass(frozen=True)
class Block:
    """A node to lay out. With `children` it is a group whose children are laid out inside it; `edges` join
    children by id. `grid` places the children in rows and columns instead (loop iterations: no edges).
    `data` is passed through to the placed node untouched."""

    node_id: str
    label: str
    kind: str
    children: tuple[Block, ...] = ()
    edges: tuple[tuple[str, str], ...] = ()
    grid: bool = False
    is_group: bool = False
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)


@dataclasses.dataclass(frozen=True)
class PlacedNode:
    node_id: str
    label: str
    kind: str
    x: float
    y: float
    width: float
    height: float
    parent_id: str
    is_group: bool
    data: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class PlacedEdge:
    source: str
    target: str
    points: tuple[Point, ...]


@dataclasses.dataclass(frozen=True)
class Layout:
    width: float
    height: float
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]


@dataclasses.dataclass
class _Local:
    """One block laid out in its own coordinates (origin at its top-left corner)."""

    block: Block
    width: float
    height: float
    children: list[tuple[float, float, _Local]]  # (x, y, child) inside this block
    edges: list[PlacedEdge]


def layout(root: Block) -> Layout:
    """Lay out `root`'s children (the root itself is not drawn) and return every node with absolute
    coordinates, groups before their children, and every edge's polyline."""
    if not root.children:
        return Layout(width=0.0, height=0.0, nodes=(), edges=())
    local = _measure(root)
    nodes: list[PlacedNode] = []
    edges: list[PlacedEdge] = []
    _flatten(local, 0.0, 0.0, "", nodes, edges, top=True)
    return Layout(width=local.width, height=local.height, nodes=tuple(nodes), edges=tuple(edges))


def _measure(block: Block) -> _Local:
    if not block.children:
        return _Local(block, TASK_WIDTH, TASK_HEIGHT, [], [])
    inner = [_measure(child) for child in block.children]
    if block.grid:
        width, height, offsets = _grid(inner)
        edges: list[PlacedEdge] = []
    else:
        width, height, offsets, edges = _layered(inner, block.edges)
    pad, header = GROUP_PADDING, GROUP_HEADER
    placed = [(x + pad, y + header, child) for (x, y), child in zip(offsets, inner, strict=True)]
    moved = [
        PlacedEdge(e.source, e.target, tuple((px + pad, py + header) for px, py in e.points)) for e in edges
    ]
    return _Local(block, max(width + 2 * pad, TASK_WIDTH), height + header + pad, placed, moved)


def _flatten(
    local: _Local,
    x: float,
    y: float,
    parent_id: str,
    nodes: list[PlacedNode],
    edges: list[PlacedEdge],
    top: bool = False,
) -> None:
    block = local.block
    if not top:
        nodes.append(
            PlacedNode(
                node_id=block.node_id,
                label=block.label,
                kind=block.kind,
                x=round(x, 1),
                y=round(y, 1),
                width=local.width,
                height=local.height,
                parent_id=parent_id,
                is_group=block.is_group or bool(block.children),
                data=block.data,
            )
        )
    # The root's own padding is dropped: its children start at the origin.
    shift_x, shift_y = (-GROUP_PADDING, -GROUP_HEADER) if top else (0.0, 0.0)
    own_id = "" if top else block.node_id
    for edge in local.edges:
        points = tuple((round(px + x + shift_x, 1), round(py + y + shift_y, 1)) for px, py in edge.points)
        edges.append(PlacedEdge(edge.source, edge.target, points))
    for cx, cy, child in local.children:
        _flatten(child, x + cx + shift_x, y + cy + shift_y, own_id, nodes, edges)
    if top:
        local.width = max(0.0, local.width - 2 * GROUP_PADDING)
        local.height = max(0.0, local.height - GROUP_HEADER - GROUP_PADDING)


def _grid(inner: Sequence[_Local]) -> tuple[float, float, list[Point]]:
    columns = max(1, math.ceil(math.sqrt(len(inner))))
    column_widths = [0.0] * columns
    row_heights = [0.0] * math.ceil(len(inner) / columns)
    for index, child in enumerate(inner):
        row, column = divmod(index, columns)
        column_widths[column] = max(column_widths[column], child.width)
        row_heights[row] = max(row_heights[row], child.height)
    lefts = [sum(column_widths[:c]) + GRID_GAP * c for c in range(columns)]
    tops = [sum(row_heights[:r]) + GRID_GAP * r for r in range(len(row_heights))]
    offsets = [(lefts[i % columns], tops[i // columns]) for i in range(len(inner))]
    used = min(columns, len(inner))
    width = sum(column_widths[:used]) + GRID_GAP * (used - 1)
    height = sum(row_heights) + GRID_GAP * (len(row_heights) - 1)
    return width, height, offsets


@dataclasses.dataclass
class _Vertex:
    """A node or a dummy in the layered graph."""

    width: float
    height: float
    layer: int
    node: int | None  # index into the group's children; None for a dummy
    up: list[int] = dataclasses.field(default_factory=list)
    down: list[int] = dataclasses.field(default_factory=list)
    x: float = 0.0  # center


def _layered(
    inner: Sequence[_Local], raw_edges: Sequence[tuple[str, str]]
) -> tuple[float, float, list[Point], list[PlacedEdge]]:
    index = {child.block.node_id: i for i, child in enumerate(inner)}
    pairs = list(
        dict.fromkeys((index[s], index[t]) for s, t in raw_edges if s in index and t in index and s != t)
    )
    layers_of = _assign_layers(len(inner), pairs)
    vertices = [_Vertex(c.width, c.height, layers_of[i], i) for i, c in enumerate(inner)]
    chains: list[tuple[int, int, list[int]]] = []  # (source, target, vertex path)
    for source, target in pairs:
        path = [source]
        for layer in range(layers_of[source] + 1, layers_of[target]):
            vertices.append(_Vertex(DUMMY_WIDTH, 0.0, layer, None))
            path.append(len(vertices) - 1)
        path.append(target)
        for upper, lower in zip(path, path[1:], strict=False):
            vertices[upper].down.append(lower)
            vertices[lower].up.append(upper)
        chains.append((source, target, path))
    layer_count = max(layers_of, default=-1) + 1
    rows: list[list[int]] = [[] for _ in range(layer_count)]
    for vertex_id in _initial_order(vertices):
        rows[vertices[vertex_id].layer].append(vertex_id)
    rows = _reduce_crossings(rows, vertices)
    _assign_x(rows, vertices)
    left = min((v.x - v.width / 2 for v in vertices), default=0.0)
    for vertex in vertices:
        vertex.x -= left
    width = max((v.x + v.width / 2 for v in vertices), default=0.0)
    band_tops, band_heights, y = [], [], 0.0
    for row in rows:
        band_height = max((vertices[v].height for v in row), default=0.0)
        band_tops.append(y)
        band_heights.append(band_height)
        y += band_height + LAYER_GAP
    height = max(0.0, y - LAYER_GAP)
    offsets = [(v.x - v.width / 2, band_tops[v.layer]) for v in vertices if v.node is not None]
    edges = []
    for source, target, path in chains:
        points: list[Point] = []
        for position, vertex_id in enumerate(path):
            vertex = vertices[vertex_id]
            top, bottom = band_tops[vertex.layer], band_tops[vertex.layer] + band_heights[vertex.layer]
            if position == 0:
                points += [(vertex.x, top + vertex.height), (vertex.x, bottom)]
            elif position == len(path) - 1:
                points.append((vertex.x, top))
            else:
                points += [(vertex.x, top), (vertex.x, bottom)]
        edges.append(PlacedEdge(inner[source].block.node_id, inner[target].block.node_id, tuple(points)))
    return width, height, offsets, edges


def _assign_layers(count: int, pairs: Sequence[tuple[int, int]]) -> list[int]:
    """Longest path from the sources (Kahn order; a cycle, which validated specs never have, is cut)."""
    successors: list[list[int]] = [[] for _ in range(count)]
    indegree = [0] * count
    for source, target in pairs:
        successors[source].append(target)
        indegree[target] += 1
    layer = [0] * count
    order: list[int] = []
    ready = [i for i in range(count) if indegree[i] == 0]
    remaining = indegree[:]
    while len(order) < count:
        if not ready:  # a cycle: release the first blocked node
            ready = [next(i for i in range(count) if remaining[i] > 0)]
            remaining[ready[0]] = 0
        node = ready.pop(0)
        order.append(node)
        for successor in successors[node]:
            layer[successor] = max(layer[successor], layer[node] + 1)
            remaining[successor] -= 1
            if remaining[successor] == 0:
                ready.append(successor)
    for node in reversed(order):
        if indegree[node] == 0 and successors[node]:
            layer[node] = max(layer[node], min(layer[s] for s in successors[node]) - 1)
    return layer


def _initial_order(vertices: Sequence[_Vertex]) -> list[int]:
    """Depth-first from the sources in input order, so connected nodes start out close together."""
    seen: set[int] = set()
    order: list[int] = []
    for start in range(len(vertices)):
        if start in seen or vertices[start].up:
            continue
        stack = [start]
        while stack:
            vertex_id = stack.pop()
            if vertex_id in seen:
                continue
            seen.add(vertex_id)
            order.append(vertex_id)
            stack.extend(reversed(vertices[vertex_id].down))
    order += [v for v in range(len(vertices)) if v not in seen]
    return order


def _reduce_crossings(rows: list[list[int]], vertices: Sequence[_Vertex]) -> list[list[int]]:
    best = [row[:] for row in rows]
    best_crossings = _crossings(rows, vertices)
    for sweep in range(ORDER_SWEEPS):
        downward = sweep % 2 == 0
        sequence = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for layer in sequence:
            fixed = rows[layer - 1] if downward else rows[layer + 1]
            position = {v: i for i, v in enumerate(fixed)}
            current = {v: i for i, v in enumerate(rows[layer])}

            def barycenter(vertex_id: int, position=position, current=current, downward=downward) -> float:
                neighbours = vertices[vertex_id].up if downward else vertices[vertex_id].down
                if not neighbours:
                    return current[vertex_id] * len(position) / max(1, len(current))
                return sum(position[n] for n in neighbours) / len(neighbours)

            rows[layer].sort(key=barycenter)
        crossings = _crossings(rows, vertices)
        if crossings < best_crossings:
            best, best_crossings = [row[:] for row in rows], crossings
        if best_crossings == 0:
            break
    return best


def _crossings(rows: Sequence[Sequence[int]], vertices: Sequence[_Vertex]) -> int:
    total = 0
    for upper, lower in zip(rows, rows[1:], strict=False):
        position = {v: i for i, v in enumerate(lower)}
        ends = sorted((i, position[d]) for i, v in enumerate(upper) for d in vertices[v].down)
        total += _inversions([end for _, end in ends])
    return total


def _inversions(values: list[int]) -> int:
    """Pairs i < j with values[i] > values[j] (each value counts the larger ones already seen)."""
    seen: list[int] = []
    count = 0
    for value in values:
        count += len(seen) - bisect.bisect_right(seen, value)
        bisect.insort(seen, value)
    return count


def _assign_x(rows: Sequence[list[int]], vertices: Sequence[_Vertex]) -> None:
    """Sweeps alternate down (towards upper neighbours) and up (towards lower ones); the last uses both."""
    offsets = [_row_offsets(row, vertices) for row in rows]
    xs = [0.0] * len(vertices)
    for row, row_offsets in zip(rows, offsets, strict=True):
        for vertex_id, offset in zip(row, row_offsets, strict=True):
            xs[vertex_id] = offset
    ups = [vertex.up for vertex in vertices]
    downs = [vertex.down for vertex in vertices]
    for sweep in range(POSITION_SWEEPS):
        last = sweep == POSITION_SWEEPS - 1
        downward = sweep % 2 == 0
        order = range(len(rows)) if downward else range(len(rows) - 1, -1, -1)
        for layer in order:
            row = rows[layer]
            wanted = []
            for vertex_id in row:
                neighbours = (
                    ups[vertex_id] + downs[vertex_id] if last else (ups if downward else downs)[vertex_id]
                )
                wanted.append(
                    sum(xs[n] for n in neighbours) / len(neighbours) if neighbours else xs[vertex_id]
                )
            for vertex_id, x in zip(row, _separated(offsets[layer], wanted), strict=True):
                xs[vertex_id] = x
    for vertex, x in zip(vertices, xs, strict=True):
        vertex.x = x


def _separation(left: _Vertex, right: _Vertex) -> float:
    gap = DUMMY_GAP if left.node is None or right.node is None else NODE_GAP
    return (left.width + right.width) / 2 + gap


def _row_offsets(row: Sequence[int], vertices: Sequence[_Vertex]) -> list[float]:
    """Each vertex's center when the row is packed tightly from 0."""
    offsets = [0.0]
    for left, right in zip(row, row[1:], strict=False):
        offsets.append(offsets[-1] + _separation(vertices[left], vertices[right]))
    return offsets


def _separated(offsets: Sequence[float], wanted: Sequence[float]) -> list[float]:
    """The centers closest (least squares) to `wanted` that keep the row's order and minimum separation:
    subtract each vertex's packed offset, solve the isotonic regression (pool adjacent violators), add it back."""
    sums: list[float] = []
    counts: list[int] = []
    for w, o in zip(wanted, offsets, strict=True):
        total, count = w - o, 1
        while sums and sums[-1] * count > total * counts[-1]:
            total += sums.pop()
            count += counts.pop()
        sums.append(total)
        counts.append(count)
    fitted: list[float] = []
    for total, count in zip(sums, counts, strict=True):
        fitted += [total / count] * count
    return [f + o for f, o in zip(fitted, offsets, strict=True)]


def layout_to_json(result: Layout) -> dict[str, Any]:
    return {
        "width": round(result.width, 1),
        "height": round(result.height, 1),
        "nodes": [
            {
                "id": n.node_id,
                "label": n.label,
                "kind": n.kind,
                "x": n.x,
                "y": n.y,
                "width": n.width,
                "height": n.height,
                "parent": n.parent_id,
                "group": n.is_group,
                **dict(n.data),
            }
            for n in result.nodes
        ],
        "edges": [{"source": e.source, "target": e.target, "points": e.points} for e in result.edges],
    }
