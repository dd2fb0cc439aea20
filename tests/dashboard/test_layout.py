"""The layered layout: real DAG layering, no overlapping nodes and no edges through nodes, also at 200 and
500 tasks and with nested groups."""

import random

from chalicelib.dashboard.layout import Block, layout
from tests.dashboard.geometry import edges_through_nodes, overlapping_nodes


def random_dag(count: int, seed: int, reach: int = 25, prefix: str = "t") -> tuple[tuple[Block, ...], tuple]:
    rng = random.Random(seed)
    blocks = tuple(Block(f"{prefix}{i}", f"task {i}", "container") for i in range(count))
    edges = []
    for i in range(1, count):
        for _ in range(rng.randint(0, 3)):
            edges.append((f"{prefix}{rng.randrange(max(0, i - reach), i)}", f"{prefix}{i}"))
    return blocks, tuple(edges)


def test_a_200_task_dag_has_no_overlapping_nodes_and_no_edge_through_a_node():
    blocks, edges = random_dag(200, seed=7)
    result = layout(Block("root", "root", "pipeline", blocks, edges))
    assert len(result.nodes) == 200
    assert overlapping_nodes(result) == []
    assert edges_through_nodes(result) == []


def test_every_edge_points_down_from_its_source_to_its_target():
    blocks, edges = random_dag(120, seed=3)
    result = layout(Block("root", "root", "pipeline", blocks, edges))
    nodes = {node.node_id: node for node in result.nodes}
    for edge in result.edges:
        source, target = nodes[edge.source], nodes[edge.target]
        assert target.y >= source.y + source.height
        assert edge.points[0] == (source.x + source.width / 2, source.y + source.height)
        assert edge.points[-1] == (target.x + target.width / 2, target.y)


def test_nested_groups_with_200_tasks_stay_inside_their_groups_and_clear_of_edges():
    groups = []
    edges = []
    for index in range(8):
        inner, inner_edges = random_dag(25, seed=index, reach=6, prefix=f"g{index}-")
        kind = ("loop", "condition", "exit-handler", "pipeline")[index % 4]
        groups.append(Block(f"g{index}", f"group {index}", kind, inner, inner_edges, is_group=True))
        if index:
            edges.append((f"g{index // 2}", f"g{index}"))
    result = layout(Block("root", "root", "pipeline", tuple(groups), tuple(edges)))
    nodes = {node.node_id: node for node in result.nodes}
    assert sum(1 for node in result.nodes if not node.is_group) == 200
    for node in result.nodes:
        if node.parent_id:
            parent = nodes[node.parent_id]
            assert parent.x <= node.x and node.x + node.width <= parent.x + parent.width
            assert parent.y <= node.y and node.y + node.height <= parent.y + parent.height
    assert overlapping_nodes(result) == []
    assert edges_through_nodes(result) == []


def test_a_grid_group_places_iterations_in_rows_without_overlap():
    iterations = tuple(
        Block(
            f"i{n}", f"iteration {n}", "iteration", (Block(f"i{n}-t", "train", "container"),), is_group=True
        )
        for n in range(10)
    )
    result = layout(
        Block("root", "root", "pipeline", (Block("loop", "loop", "loop", iterations, grid=True),))
    )
    rows = {node.y for node in result.nodes if node.kind == "iteration"}
    assert len(rows) == 3  # ceil(sqrt(10)) = 4 columns
    assert overlapping_nodes(result) == []


def test_a_chain_drawn_in_crossing_order_comes_out_without_crossings():
    blocks = tuple(Block(name, name, "container") for name in ("a1", "b1", "b2", "a2"))
    result = layout(Block("root", "root", "pipeline", blocks, (("a1", "a2"), ("b1", "b2"))))
    x = {node.node_id: node.x for node in result.nodes}
    assert (x["a1"] < x["b1"]) == (x["a2"] < x["b2"])


def test_an_empty_pipeline_has_an_empty_layout():
    result = layout(Block("root", "root", "pipeline"))
    assert (result.width, result.height, result.nodes, result.edges) == (0.0, 0.0, (), ())


def test_the_geometry_checks_catch_an_overlap_and_an_edge_through_a_node():
    from chalicelib.dashboard.layout import Layout, PlacedEdge, PlacedNode

    def box(node_id: str, x: float, y: float) -> PlacedNode:
        return PlacedNode(node_id, node_id, "container", x, y, 100, 40, "", False, {})

    nodes = (box("a", 0, 0), box("b", 50, 10), box("c", 0, 200), box("d", 0, 100))
    edge = PlacedEdge("a", "c", ((50.0, 40.0), (50.0, 200.0)))
    broken = Layout(200, 240, nodes, (edge,))
    assert overlapping_nodes(broken) == [("a", "b")]
    assert ("a", "c", "d") in edges_through_nodes(broken)
