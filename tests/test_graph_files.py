"""Real graph files in: the cases users tried, KONECT and SNAP conventions, formats, safety, ids, notes.

The case files in tests/data/cases are copies of files people tried (each YAML's first comment says
what it is). Every one must run, or fail with the one message a person needs.
"""

from __future__ import annotations

import io
import os
import pickle
import threading
import warnings
from datetime import timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import load_scenario, run
from sim.scenario import EdgeListSpec, ScenarioError, scenario_from_dict, scenario_from_text
from sim.world.build import build_graph, build_world, graph_source, read_graph_file
from sim.world.edge_list import (
    EdgeListError,
    _assemble,
    parse_graph,
    read_edge_list,
    read_graph_bytes,
)
from sim.world.edge_list_text import scan, sniff
from sim.world.graph import SocialGraph, graph_from_edges
from tests.conftest import SCENARIOS

CASES = Path(__file__).parent / "data" / "cases"
#: A fuzz example taking longer than this is a hang (small inputs parse in milliseconds).
HANG = timedelta(seconds=10)
KARATE_1BASED = CASES / "01-karate-konect-1based.txt"


def edges_of(graph: SocialGraph) -> set[tuple[int, int]]:
    """Undirected ties as (low row, high row)."""
    assert graph.indptr is not None and graph.indices is not None
    rows = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    upper = rows < graph.indices
    return set(zip(rows[upper].tolist(), graph.indices[upper].tolist(), strict=True))


def ties_by_id(graph: SocialGraph) -> set[frozenset[object]]:
    """Ties as pairs of the file's own ids (independent of how people were numbered)."""
    assert graph.node_ids is not None
    ids = graph.node_ids.tolist()
    return {frozenset((ids[a], ids[b])) for a, b in edges_of(graph)}


def karate_ties() -> set[frozenset[object]]:
    return {frozenset((a + 1, b + 1)) for a, b in nx.karate_club_graph().edges()}


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def read_text(tmp_path: Path, content: str | bytes, name: str = "edges.txt", **kwargs: object) -> SocialGraph:
    return read_edge_list(write(tmp_path, name, content), **kwargs)  # type: ignore[arg-type]


def error_of(
    tmp_path: Path, content: str | bytes, name: str = "edges.txt", **kwargs: object
) -> EdgeListError:
    with pytest.raises(EdgeListError) as caught:
        read_text(tmp_path, content, name, **kwargs)
    return caught.value


# ------------------------------------------------------------------------ the users' cases


KARATE_FILES = [
    "01-karate-konect-1based.txt",
    "02-karate-0based.csv",
    "03-karate-weighted.txt",
    "13-karate-excel-unicode-text.txt",
    "14-karate-quoted.csv",
]


@pytest.mark.parametrize("name", KARATE_FILES)
def test_every_karate_file_is_the_club_34_people_and_78_ties(name: str) -> None:
    graph = read_edge_list(CASES / name)
    assert graph.n == 34 and graph.n_edges == 78
    one_based = {
        frozenset(int(i) + (0 if name.startswith(("01", "03")) else 1) for i in tie)
        for tie in ties_by_id(graph)
    }
    assert one_based == karate_ties()


def test_the_karate_preset_is_the_club() -> None:
    scenario = load_scenario(SCENARIOS / "karate_club.yaml")
    assert scenario.network.n is None  # the count comes from the file
    world = build_world(scenario)
    assert world.graph.n == 34 and world.graph.n_edges == 78 and world.n_real == 34
    assert ties_by_id(world.graph) == karate_ties()
    assert world.node_ids is not None and world.node_ids.tolist() == list(range(1, 35))


@pytest.mark.parametrize(
    "case",
    [
        "01-karate-konect.yaml",
        "02b-karate-no-n.yaml",
        "13-karate-excel-unicode-text.yaml",
        "14-karate-quoted.yaml",
    ],
)
def test_karate_cases_run_with_34_people(case: str) -> None:
    result = run(load_scenario(CASES / case, {"days": 30}))
    assert result.n_people == 34
    assert (
        result.steps.filter(like="n_").iloc[0][["n_unaware", "n_aware", "n_customer", "n_churned"]].sum()
        == 34
    )
    assert result.node_ids is not None and len(result.node_ids) == 34
    assert result.summary["new_customers"] >= 2  # two seeds at least; the ripple may add more


def test_a_case_without_network_n_no_longer_gets_10000_people() -> None:
    scenario = load_scenario(CASES / "02b-karate-no-n.yaml")
    assert scenario.network.n is None
    assert build_world(scenario).graph.n == 34


def test_network_n_that_disagrees_with_the_file_is_one_clear_error() -> None:
    # Case 03 kept the old workaround n: 35 for ids 1..34.
    scenario = load_scenario(CASES / "03-karate-weighted.yaml")
    with pytest.raises(EdgeListError) as caught:
        build_world(scenario)
    err = caught.value
    assert err.n_problems == 1
    assert "network.n is 35, but the file holds 34 people (ids 1 to 34)" in str(err)
    assert err.hint is not None and "leave network.n out" in err.hint
    # Left out, the same scenario runs on the file's 34 people, with its tie strengths.
    data = yaml.safe_load((CASES / "03-karate-weighted.yaml").read_text())
    del data["network"]["n"]
    fixed = scenario_from_dict(data, base_dir=CASES)
    world = build_world(fixed)
    assert world.graph.n == 34 and world.graph.tie_strength is not None


def test_the_snap_head_file_counts_line_and_truncation_are_explained() -> None:
    scenario = load_scenario(CASES / "05-ca-grqc.yaml")
    with pytest.raises(EdgeListError) as caught:
        build_world(scenario)
    message = str(caught.value)
    assert "network.n is 5,242, but the file holds 563 people (ids 26 to 26,196, with gaps)" in message
    assert "announces 5,242 nodes but holds 563: is it cut short?" in message
    graph = read_edge_list(CASES / "05-ca-grqc-head.tsv")
    assert graph.n == 563
    assert not {5242, 28980} & set(graph.node_ids.tolist())  # the counts line is not a tie
    notes = " | ".join(graph.notes)
    assert "'5242 28980' is read as the counts of nodes and edges" in notes
    assert "130 pairs are listed both ways" in notes
    assert "ids run from 26 to 26,196, with gaps" in notes


def test_a_scenario_pointing_at_a_system_file_never_quotes_it(tmp_path: Path) -> None:
    scenario = load_scenario(CASES / "20-upload-path-etc.yaml")
    if not Path("/etc/os-release").is_file():
        pytest.skip("no /etc/os-release on this machine")
    with pytest.raises(EdgeListError) as caught:
        build_world(scenario)
    message = str(caught.value)
    assert "does not look like an edge list" in message
    for line in Path("/etc/os-release").read_text().splitlines():
        for part in line.replace("=", " ").split():
            if len(part) >= 6:
                assert part.strip('"') not in message, f"the error quotes the system file: {part}"


# ------------------------------------------------------------------- KONECT and SNAP files


def test_konect_header_lines_are_comments_and_say_the_list_is_undirected(tmp_path: Path) -> None:
    text = "% sym unweighted\n% 3 3 3\n1 2\n2 3\n3 1\n"
    graph = read_text(tmp_path, text)
    assert graph.n == 3 and graph.n_edges == 3
    assert not any("directed" in note for note in graph.notes)


def test_konect_asym_makes_the_list_symmetric_with_a_note(tmp_path: Path) -> None:
    graph = read_text(tmp_path, "% asym unweighted\n1 2\n2 1\n2 3\n")
    assert graph.n_edges == 2
    (note,) = [n for n in graph.notes if "directed" in n]
    assert "the file says so" in note and "1 pair listed both ways became one tie" in note


def test_konect_weights_and_timestamps(tmp_path: Path) -> None:
    graph = read_text(tmp_path, "% sym positive\n1 2 3 1234567\n2 3 1 1234568\n")
    assert graph.tie_strength is not None
    assert graph.tie_strength_between(np.array([0, 1]), np.array([1, 2])).tolist() == [3.0, 1.0]
    assert any("columns 4 to 4 are ignored" in note for note in graph.notes)


def test_konect_bipartite_is_refused_with_the_reason(tmp_path: Path) -> None:
    err = error_of(tmp_path, "% bip unweighted\n1 1\n1 2\n2 1\n")
    assert "bipartite" in str(err) and err.hint is not None and "project" in err.hint


def test_snap_comments_directed_header_and_declared_counts(tmp_path: Path) -> None:
    text = (
        "# Directed graph (each unordered pair of nodes is saved once): Wiki-Vote.txt\n"
        "# Nodes: 4 Edges: 4\n"
        "# FromNodeId\tToNodeId\n"
        "30\t1412\n30\t3352\n3352\t30\n3\t28\n"
    )
    graph = read_text(tmp_path, text)
    assert graph.n == 5 and graph.n_edges == 3
    notes = " | ".join(graph.notes)
    assert "the list is directed (the file says so)" in notes
    assert "announces 4 nodes but holds 5 people" in notes


def test_a_first_tie_is_not_mistaken_for_a_counts_line(tmp_path: Path) -> None:
    # "5 9" looks like counts, but 5 is a person with other ties: it is a tie.
    graph = read_text(tmp_path, "5 9\n5 1\n1 2\n2 3\n")
    assert graph.n == 5 and graph.n_edges == 4
    assert not any("counts" in note for note in graph.notes)


def test_a_counts_line_before_weighted_ties_is_skipped(tmp_path: Path) -> None:
    graph = read_text(tmp_path, "3 2\n1 2 0.5\n2 3 2.0\n")
    assert graph.n == 3 and graph.n_edges == 2
    assert graph.tie_strength is not None and sorted(set(graph.tie_strength.tolist())) == [0.5, 2.0]


# ------------------------------------------------------------ separators, headers, encodings


@pytest.mark.parametrize(
    "text",
    [
        "source,target\n0,1\n1,2\n",
        "Source\tTarget\r\n0\t1\r\n1\t2\r\n",
        '"source","target"\n"0","1"\n"1","2"\n',
        "u;v\n0;1\n1;2\n",
        "# exported\n\n0 1   \n   1    2\n",
        "0 1 # a trailing comment\n1 2\n",
        "0,1\n1, 2\n",
        "from to\n0 1\n% a comment in the middle\n1 2\n",
    ],
    ids=[
        "csv",
        "excel-tabs-crlf",
        "quoted",
        "semicolon",
        "runs-of-spaces",
        "trailing-comment",
        "space-after-comma",
        "mid-comment",
    ],
)
def test_separators_headers_and_comments(tmp_path: Path, text: str) -> None:
    graph = read_text(tmp_path, text)
    assert graph.n == 3 and edges_of(graph) == {(0, 1), (1, 2)}


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),
    ],
)
def test_text_encodings_are_detected(tmp_path: Path, encoding: str, bom: bytes) -> None:
    content = bom + "Source\tTarget\r\nÅsa\tBjörn\r\nBjörn\tÇelik\r\n".encode(encoding)
    graph = read_text(tmp_path, content)
    assert graph.node_ids is not None and graph.node_ids.tolist() == ["Åsa", "Björn", "Çelik"]
    assert graph.n_edges == 2


def test_windows_1252_is_read_with_a_note(tmp_path: Path) -> None:
    graph = read_text(tmp_path, "Zoë,Renée\nRenée,José\n".encode("cp1252"))
    assert graph.node_ids.tolist() == ["Zoë", "Renée", "José"]
    assert any("Windows-1252" in note for note in graph.notes)


def test_quoted_names_may_hold_the_separator(tmp_path: Path) -> None:
    graph = read_text(tmp_path, 'a,b\n"Smith, Ann","Jones, Bo"\n"Jones, Bo","Lee, Cy"\n', name="e.csv")
    assert graph.node_ids.tolist() == ["Smith, Ann", "Jones, Bo", "Lee, Cy"]


# --------------------------------------------------------------------------------- ids


def test_number_ids_are_renumbered_in_order_and_mapped_back(tmp_path: Path) -> None:
    graph = read_text(tmp_path, "100 7\n7 3000000000000\n")
    assert graph.node_ids.tolist() == [7, 100, 3_000_000_000_000]
    assert graph.node_ids.dtype == np.int64
    assert edges_of(graph) == {(0, 1), (0, 2)}
    assert any("ids run from 7 to 3,000,000,000,000, with gaps" in note for note in graph.notes)


def test_zero_based_contiguous_ids_need_no_note(tmp_path: Path) -> None:
    graph = read_text(tmp_path, "0 1\n1 2\n")
    assert graph.notes == () and graph.node_ids.tolist() == [0, 1, 2]


@pytest.mark.parametrize("odd", ["1_0", "１", "٣", "+5", "-1", "1.0", "0x1f", "1e3"])
def test_only_ascii_digits_are_numbers(tmp_path: Path, odd: str) -> None:
    graph = read_text(tmp_path, f"1 2\n2 {odd}\n")
    ids = graph.node_ids.tolist()
    assert graph.node_ids.dtype == object and ids == ["1", "2", odd]


def test_names_are_numbered_in_order_of_first_appearance(tmp_path: Path) -> None:
    graph = read_text(tmp_path, "zoe amir\namir bo\nbo zoe\n")
    assert graph.node_ids.tolist() == ["zoe", "amir", "bo"]
    assert any("ids are names" in note for note in graph.notes)


# ------------------------------------------------------------- loops, duplicates, direction


def test_self_loops_and_duplicates_are_dropped_alike_by_the_file_reader_and_the_api(tmp_path: Path) -> None:
    pairs = [(0, 1), (1, 1), (1, 2), (2, 1), (0, 1), (3, 3), (2, 3)]
    from_file = read_text(tmp_path, "".join(f"{a} {b}\n" for a, b in pairs))
    src, dst = np.array(pairs).T
    from_api = graph_from_edges(4, src, dst)
    np.testing.assert_array_equal(from_file.indptr, from_api.indptr)
    np.testing.assert_array_equal(from_file.indices, from_api.indices)
    for graph in (from_file, from_api):
        loops = [note for note in graph.notes if "self-loop" in note]
        assert loops == ["dropped 2 self-loops (a person is not their own friend)"]
    assert from_api.notes[1] == "dropped 2 duplicate ties (a pair given more than once, in either order)"
    assert "dropped 1 duplicate line" in " ".join(from_file.notes)
    assert "1 pair is listed both ways" in " ".join(from_file.notes)


def test_an_only_self_loops_file_is_an_error(tmp_path: Path) -> None:
    err = error_of(tmp_path, "1 1\n2 2\n")
    assert "only self-loops" in str(err)


def test_graph_from_edges_makes_no_notes_for_a_simple_list() -> None:
    graph = graph_from_edges(3, np.array([0, 1]), np.array([1, 2]))
    assert graph.notes == () and graph.node_ids is None and graph.tie_strength is None


# ---------------------------------------------------------------------------- tie strength


def test_tie_strength_is_aligned_with_the_csr_and_symmetric(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, 40, (150, 2)) if a < b}
    weight = {pair: float(rng.integers(1, 9)) for pair in pairs}
    text = "".join(f"{a} {b} {w}\n" for (a, b), w in weight.items())
    graph = read_text(tmp_path, text)
    assert graph.tie_strength is not None and graph.tie_strength.shape == graph.indices.shape
    ids = graph.node_ids.tolist()
    rows = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    for row, col, strength in zip(
        rows.tolist(), graph.indices.tolist(), graph.tie_strength.tolist(), strict=True
    ):
        a, b = sorted((ids[row], ids[col]))
        assert strength == weight[(a, b)]
    assert not graph.tie_strength.flags.writeable


def test_duplicate_ties_add_their_strengths() -> None:
    graph = graph_from_edges(3, np.array([0, 1, 1]), np.array([1, 0, 2]), weight=np.array([2.0, 3.0, 1.0]))
    assert graph.tie_strength_between(np.array([0, 1, 0]), np.array([1, 2, 2])).tolist()[:2] == [5.0, 1.0]
    assert np.isnan(graph.tie_strength_between(np.array([0]), np.array([2])))[0]
    assert "their tie strengths are added" in graph.notes[0]


def test_unweighted_ties_have_strength_one_and_non_ties_nan() -> None:
    graph = graph_from_edges(4, np.array([0, 1]), np.array([1, 2]))
    assert graph.tie_strength is None
    values = graph.tie_strength_between(np.array([1, 0, 2]), np.array([0, 3, 2]))
    assert values[0] == 1.0 and np.isnan(values[1:]).all()


@pytest.mark.parametrize("bad", ["-1", "nan", "inf", "heavy"])
def test_a_weight_must_be_a_number_not_below_zero(tmp_path: Path, bad: str) -> None:
    err = error_of(tmp_path, f"1 2 3\n2 3 4\n3 4 {bad}\n4 5 1\n")
    assert err.n_problems == 1 and err.problems[0][0] == 3
    assert err.hint is not None and "tie strength" in err.hint


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_graph_from_edges_refuses_bad_weights(bad: float) -> None:
    with pytest.raises(ValueError, match="finite and non-negative"):
        graph_from_edges(3, np.array([0]), np.array([1]), weight=np.array([bad]))


def test_fake_accounts_keep_the_real_strengths_and_are_weak_ties() -> None:
    data = yaml.safe_load((CASES / "03-karate-weighted.yaml").read_text())
    del data["network"]["n"]
    data["fraud"] = {"n_attackers": 2, "accounts_per_attacker": 3, "ring_links_to_real": 1}
    world = build_world(scenario_from_dict(data, base_dir=CASES))
    real = read_edge_list(CASES / "03-karate-weighted.txt")
    assert world.n_real == 34 and world.n_fake == 6 and world.graph.n == 40
    assert world.graph.tie_strength is not None
    a, b = np.array(sorted(edges_of(real))).T
    np.testing.assert_array_equal(world.graph.tie_strength_between(a, b), real.tie_strength_between(a, b))
    fake_rows = np.repeat(np.arange(world.graph.n), np.diff(world.graph.indptr)) >= 34
    assert np.all(world.graph.tie_strength[fake_rows] == real.tie_strength.min())
    assert world.node_ids is not None and len(world.node_ids) == 34


def test_a_large_file_with_numbers_then_names_reads_without_warnings(tmp_path: Path) -> None:
    rows = [f"{i} {i + 1}" for i in range(200_000)] + ["ann bo", "bo 5"]
    path = write(tmp_path, "mixed.txt", "\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' DtypeWarning on mixed columns, or any other
        graph = read_edge_list(path)
    assert graph.n == 200_003 and graph.node_ids.dtype == object
    assert graph.node_ids[0] == "0" and graph.node_ids[-1] == "bo"


# ------------------------------------------------------------------------------- formats


def _karate_bytes(writer: str) -> bytes:
    graph = nx.karate_club_graph()
    out = io.BytesIO()
    getattr(nx, writer)(graph, out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("writer", "name"),
    [
        ("write_graphml", "club.graphml"),
        ("write_gexf", "club.gexf"),
        ("write_gml", "club.gml"),
        ("write_pajek", "club.net"),
    ],
)
def test_gephi_and_igraph_formats_are_read_through_networkx(writer: str, name: str) -> None:
    graph = parse_graph(_karate_bytes(writer), name)
    assert graph.n == 34 and graph.n_edges == 78
    assert {frozenset(int(i) + 1 for i in tie) for tie in ties_by_id(graph)} == karate_ties()
    assert graph.tie_strength is not None  # the club's interaction counts
    expected = nx.karate_club_graph()
    ids = graph.node_ids.tolist()
    rows = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
    for row, col, strength in zip(
        rows.tolist(), graph.indices.tolist(), graph.tie_strength.tolist(), strict=True
    ):
        assert strength == expected.edges[int(ids[row]), int(ids[col])]["weight"]


def test_networkx_formats_keep_isolated_people_and_declared_direction() -> None:
    graph = nx.DiGraph()
    graph.add_nodes_from(["ann", "bo", "cy", "dee"])
    graph.add_edges_from([("ann", "bo"), ("bo", "ann"), ("bo", "cy")])
    out = io.BytesIO()
    nx.write_graphml(graph, out)
    read = parse_graph(out.getvalue(), "g.graphml")
    assert read.n == 4 and read.n_edges == 2 and read.node_ids.tolist() == ["ann", "bo", "cy", "dee"]
    assert any("the list is directed (the file says so)" in note for note in read.notes)


def test_the_format_is_chosen_by_extension_content_or_the_field(tmp_path: Path) -> None:
    data = _karate_bytes("write_graphml")
    assert parse_graph(data, "club.xml").n == 34  # content: <graphml
    spec = EdgeListSpec(path="club.dat", format="graphml")
    write(tmp_path, "club.dat", data)
    assert build_graph(spec, np.random.default_rng(), base_dir=tmp_path).n == 34
    with pytest.raises(EdgeListError, match="not a valid GraphML file"):
        parse_graph(b"<graphml><graph", "bad.graphml")


def test_html_or_other_xml_is_not_an_edge_list(tmp_path: Path) -> None:
    err = error_of(tmp_path, "<html>\n<body>hello world</body>\n</html>\n", name="page.txt")
    assert "does not look like an edge list" in str(err)


# -------------------------------------------------------------------------- errors, summed


def test_errors_show_at_most_five_examples_the_count_and_the_fix(tmp_path: Path) -> None:
    lines = [f"{i} {i + 1}" for i in range(60)]
    for k in range(2, 36, 2):
        lines[k] = f"{k} {k + 1} 1 2"
    err = error_of(tmp_path, "\n".join(lines) + "\n")
    text = str(err).splitlines()
    assert err.n_problems == 17 and len(err.problems) == 5
    assert text[0].endswith("17 of 60 lines are not ties")
    assert text[6] == "  … and 12 more" and text[7].startswith("  likely fix:")
    assert sum(line.strip().startswith("line ") for line in text) == 5
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.problems == err.problems


def test_example_lines_are_short_and_sanitised(tmp_path: Path) -> None:
    long_line = "x" * 300 + " y z\x1b[31m"
    err = error_of(tmp_path, f"1 2\n2 3\n3 4\n{long_line}\n")
    (line, message) = err.problems[0]
    assert line == 4 and "\x1b" not in message and len(message) < 120


def test_networkx_edgelist_with_data_gets_its_own_hint(tmp_path: Path) -> None:
    err = error_of(tmp_path, "0 1 {}\n1 2 {}\n2 3 {'weight': 2}\n")
    assert err.hint is not None and "write_edgelist" in err.hint


def test_a_single_column_is_not_an_edge_list(tmp_path: Path) -> None:
    err = error_of(tmp_path, "1\n2\n3\n")
    assert "does not look like an edge list: 3 of 3 lines are not ties" in str(err)
    assert all(message == "one field (a tie needs two ids)" for _, message in err.problems)


def test_empty_and_comment_only_files(tmp_path: Path) -> None:
    assert "holds no ties" in str(error_of(tmp_path, ""))
    assert "holds no ties" in str(error_of(tmp_path, "% sym unweighted\n# nothing\n\n"))
    assert "holds no ties" in str(error_of(tmp_path, "source,target\n"))


# --------------------------------------------------------------------------- safe reading


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    thread = threading.Thread(
        target=lambda: outcome.append(_raises(lambda: read_edge_list(fifo))), daemon=True
    )
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "reading a FIFO blocked"
    assert isinstance(outcome[0], EdgeListError) and "not a regular file" in str(outcome[0])


def _raises(action: object) -> BaseException:
    try:
        action()  # type: ignore[operator]
    except BaseException as exc:
        return exc
    raise AssertionError("nothing was raised")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/stdin", "/dev/null"])
def test_devices_are_refused(device: str, tmp_path: Path) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    with pytest.raises(EdgeListError, match=r"not a regular file|system file"):
        read_edge_list(device)
    link = tmp_path / "edges.txt"
    link.symlink_to(device)
    with pytest.raises(EdgeListError, match=r"not a regular file|system file"):
        read_edge_list(link)


def test_folders_missing_files_and_the_size_cap(tmp_path: Path) -> None:
    with pytest.raises(EdgeListError, match="is a folder"):
        read_edge_list(tmp_path)
    with pytest.raises(EdgeListError, match="file not found"):
        read_edge_list(tmp_path / "nope.csv")
    big = write(tmp_path, "big.txt", "1 2\n" * 1000)
    with pytest.raises(EdgeListError) as caught:
        read_graph_bytes(big, max_bytes=1000)
    assert "is 4,000 bytes; graph files are read up to 1,000 bytes" in str(caught.value)
    assert read_graph_bytes(big, max_bytes=4000) == big.read_bytes()


def test_binary_data_is_refused(tmp_path: Path) -> None:
    err = error_of(tmp_path, bytes(range(256)) * 4)
    assert "is binary data, not a text edge list" in str(err)


# ------------------------------------------------------------------------------- uploads


def _karate_upload() -> tuple[bytes, dict[str, bytes]]:
    text = (SCENARIOS / "karate_club.yaml").read_bytes()
    return text, {"karate_club.txt": (SCENARIOS / "karate_club.txt").read_bytes()}


def test_an_uploaded_scenario_reads_its_attachment_and_never_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, files = _karate_upload()
    # A file of the same name in the working directory must not be read.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "karate_club.txt").write_text("0 1\n")
    scenario = scenario_from_text(text, attachments=files)
    assert scenario.attachments == files
    world = build_world(scenario)
    assert world.graph.n == 34
    again = scenario.with_overrides({"days": 10})
    assert again.attachments == files and build_world(again).graph.n == 34


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x.txt", "data/edges.txt", "..", "C:\\x.txt", "/etc/os-release"]
)
def test_an_uploaded_scenario_naming_a_server_path_is_refused_in_one_line(path: str) -> None:
    text = f"network:\n  kind: edge_list\n  path: {path!r}\n"
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, attachments={"x.txt": b"0 1\n"}, source="up.yaml")
    (problem,) = caught.value.problems
    assert problem.path == "network.path"
    assert "only use files uploaded with it" in problem.allowed


def test_an_uploaded_scenario_without_its_file_says_what_was_uploaded() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text((CASES / "01-karate-konect.yaml").read_bytes(), attachments={})
    (problem,) = caught.value.problems
    assert "must name a file uploaded with the scenario (uploaded: none was)" in str(problem)


def test_the_upload_case_file_is_refused_without_reading_anything() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text((CASES / "20-upload-path-etc.yaml").read_bytes(), attachments={}, source="20.yaml")
    assert str(caught.value).count("\n") == 1  # one problem line
    assert "os-release" in str(caught.value) and "NAME=" not in str(caught.value)


# ------------------------------------------------------------------ people from the file


def test_settings_that_need_more_people_than_the_file_holds_are_refused() -> None:
    data = yaml.safe_load((SCENARIOS / "karate_club.yaml").read_text())
    data["roles"] = {"n_kols": 40}
    scenario = scenario_from_dict(data, base_dir=SCENARIOS)  # valid until the file is read
    with pytest.raises(ScenarioError) as caught:
        build_world(scenario)
    assert "at most the 34 people in karate_club.txt" in str(caught.value)


def test_a_run_keeps_the_id_mapping_and_saves_it(tmp_path: Path) -> None:
    result = run(load_scenario(SCENARIOS / "karate_club.yaml", {"days": 5}))
    assert result.node_ids is not None
    assert result.node_ids.index.name == "person" and result.node_ids.name == "node_id"
    assert result.node_ids.tolist() == list(range(1, 35))
    written = result.save(tmp_path)
    assert tmp_path / "node_ids.csv" in written
    lines = (tmp_path / "node_ids.csv").read_text().splitlines()
    assert lines[0] == "person,node_id" and lines[1] == "0,1" and lines[-1] == "33,34"
    assert "n: " not in (tmp_path / "scenario.yaml").read_text().split("network:")[1].split("population:")[0]


def test_generated_graphs_have_no_mapping() -> None:
    result = run(load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 300, "days": 3}))
    assert result.node_ids is None and result.notes == () and result.n_people == 300


def test_reads_are_cached_by_content(tmp_path: Path) -> None:
    path = write(tmp_path, "e.txt", "0 1\n1 2\n")
    spec = EdgeListSpec(path=str(path))
    first = read_graph_file(spec)
    assert read_graph_file(spec) is first
    path.write_text("0 1\n1 2\n2 3\n")
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock's resolution
    assert read_graph_file(spec).graph.n == 4


# ------------------------------------------------------------------- fast path = reference


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 9)), min_size=1, max_size=40),
    st.sampled_from([" ", "\t", ",", ";"]),
    st.booleans(),
    st.booleans(),
)
def test_the_fast_path_agrees_with_the_line_by_line_reference(
    tmp_path: Path, ties: list[tuple[int, int, int]], separator: str, weighted: bool, header: bool
) -> None:
    if all(a == b for a, b, _ in ties):
        ties = [*ties, (31, 32, 1)]
    rows = [separator.join(map(str, (a, b, w) if weighted else (a, b))) for a, b, w in ties]
    text = (
        "source" + separator + "target" + (separator + "weight" if weighted else "") + "\n" if header else ""
    )
    text += "\n".join(rows) + "\n"
    fast = _outcome(lambda: parse_graph(text.encode(), "e.txt"))
    slow = _outcome(lambda: _reference(text.encode()))
    if isinstance(fast, EdgeListError) or isinstance(slow, EdgeListError):
        assert str(fast) == str(slow)
        return
    np.testing.assert_array_equal(fast.indptr, slow.indptr)
    np.testing.assert_array_equal(fast.indices, slow.indices)
    np.testing.assert_array_equal(fast.node_ids, slow.node_ids)
    if weighted:
        np.testing.assert_array_equal(fast.tie_strength, slow.tie_strength)
    assert fast.notes == slow.notes


def _outcome(action: object) -> SocialGraph | EdgeListError:
    try:
        return action()  # type: ignore[operator,no-any-return]
    except EdgeListError as exc:
        return exc


def _reference(data: bytes) -> SocialGraph:
    """The graph the line-by-line scan alone makes of ``data`` (no pyarrow)."""
    layout = sniff(data, "e.txt")
    labelled = scan(data, layout, "e.txt")
    labelled.notes[:0] = layout.notes
    return _assemble(labelled, "e.txt").graph


# -------------------------------------------------------------------------------- fuzzing


def _clean_outcome(data: bytes, name: str = "fuzz.txt") -> None:
    """A graph (simple, consistent) or an EdgeListError; anything else fails the test."""
    try:
        graph = parse_graph(data, name)
    except EdgeListError as exc:
        assert str(exc)
        return
    assert graph.n >= 2 and graph.n_edges >= 1
    assert graph.node_ids is not None and graph.node_ids.shape == (graph.n,)
    assert int(graph.degree.sum()) == 2 * graph.n_edges


@settings(max_examples=150, deadline=HANG, derandomize=True)
@given(st.binary(max_size=400))
def test_random_bytes_end_in_a_graph_or_a_clean_error(data: bytes) -> None:
    _clean_outcome(data)


_KARATE = KARATE_1BASED.read_bytes()


@settings(max_examples=150, deadline=HANG, derandomize=True)
@given(
    st.lists(
        st.tuples(st.integers(0, len(_KARATE)), st.integers(0, 8), st.binary(max_size=6)),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["k.txt", "k.csv", "k.graphml", "k.gexf", "k.gml", "k.net"]),
)
def test_mutated_edge_lists_end_in_a_graph_or_a_clean_error(
    edits: list[tuple[int, int, bytes]], name: str
) -> None:
    data = bytearray(_KARATE)
    for position, cut, insert in edits:
        data[position : position + cut] = insert
    _clean_outcome(bytes(data), name)


@settings(max_examples=60, deadline=HANG, derandomize=True)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list('0123456789 ,;\t"#%-_.ab\r\n١２{}')), max_size=30),
        min_size=1,
        max_size=30,
    )
)
def test_edge_list_like_text_ends_in_a_graph_or_a_clean_error(lines: list[str]) -> None:
    _clean_outcome("\n".join(lines).encode("utf-8"))
    _clean_outcome("\r\n".join(lines).encode("utf-16"))


def test_built_worlds_are_keyed_by_the_files_content(tmp_path: Path) -> None:
    text, files = _karate_upload()
    one = scenario_from_text(text, attachments=files)
    other = scenario_from_text(text, attachments={"karate_club.txt": files["karate_club.txt"] + b"1 35\n"})
    assert one.market() == other.market()  # the same settings…
    assert graph_source(one) != graph_source(other)  # …but not the same graph
    assert graph_source(load_scenario(SCENARIOS / "hybrid.yaml")) == ""
    path = write(tmp_path, "e.txt", "0 1\n")
    scenario = scenario_from_dict({"network": {"kind": "edge_list", "path": "e.txt"}}, base_dir=tmp_path)
    before = graph_source(scenario)
    path.write_text("0 1\n1 2\n")
    assert graph_source(scenario) != before
