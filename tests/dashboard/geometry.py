"""Checks on a laid-out graph: nodes that overlap, edges that pass through a node."""

from collections.abc import Iterator

from chalicelib.dashboard.layout import Layout, PlacedNode

Point = tuple[float, float]
CURVE_SAMPLES = 24


def _ancestors(layout: Layout) -> dict[str, set[str]]:
    parents = {node.node_id: node.parent_id for node in layout.nodes}
    found: dict[str, set[str]] = {}
    for node_id in parents:
        chain, current = set(), parents[node_id]
        while current:
            chain.add(current)
            current = parents.get(current, "")
        found[node_id] = chain
    return found


def overlapping_nodes(layout: Layout) -> list[tuple[str, str]]:
    """Pairs of nodes, neither containing the other, whose boxes intersect."""
    ancestors = _ancestors(layout)
    ordered = sorted(layout.nodes, key=lambda node: node.x)
    pairs = []
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            if second.x >= first.x + first.width:
                break
            if first.node_id in ancestors[second.node_id] or second.node_id in ancestors[first.node_id]:
                continue
            if second.y < first.y + first.height and first.y < second.y + second.height:
                pairs.append((first.node_id, second.node_id))
    return pairs


def path_samples(points: tuple[Point, ...]) -> Iterator[Point]:
    """Points along an edge as the browser draws it: vertical lines where x stays, else a cubic curve with
    vertical tangents between the two points."""
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        middle = (y1 + y2) / 2
        for step in range(CURVE_SAMPLES + 1):
            t = step / CURVE_SAMPLES
            if x1 == x2:
                yield x1, y1 + (y2 - y1) * t
            else:
                u = 1 - t
                x = u**3 * x1 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x2
                y = u**3 * y1 + 3 * u * u * t * middle + 3 * u * t * t * middle + t**3 * y2
                yield x, y


def _inside(node: PlacedNode, point: Point, margin: float = 0.5) -> bool:
    x, y = point
    return (
        node.x + margin < x < node.x + node.width - margin
        and node.y + margin < y < node.y + node.height - margin
    )


def edges_through_nodes(layout: Layout) -> list[tuple[str, str, str]]:
    """(source, target, node) for every edge passing through a node other than its ends and their groups."""
    ancestors = _ancestors(layout)
    found = []
    for edge in layout.edges:
        allowed = {edge.source, edge.target} | ancestors[edge.source] | ancestors[edge.target]
        samples = list(path_samples(edge.points))
        low_x, high_x = min(x for x, _ in samples), max(x for x, _ in samples)
        low_y, high_y = min(y for _, y in samples), max(y for _, y in samples)
        for node in layout.nodes:
            if node.node_id in allowed or node.x > high_x or node.x + node.width < low_x:
                continue
            if node.y > high_y or node.y + node.height < low_y:
                continue
            if any(_inside(node, point) for point in samples):
                found.append((edge.source, edge.target, node.node_id))
    return found
