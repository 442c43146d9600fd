"""Data: generators are valid and unique, augmentations keep validity, official formats round-trip, bad files fail clearly."""
from __future__ import annotations

import json

import numpy as np
import pytest

from trm_edge.data import exact_accuracy
from trm_edge.datasets import DataSpec, load_splits
from trm_edge.data import arc, maze, sudoku
from trm_edge.datasets import formats


@pytest.mark.parametrize("size", [4, 6])
def test_sudoku_generator_gives_unique_valid_puzzles(size):
    for puzzle, solution in sudoku.generate(5, size, seed=3):
        assert sudoku.is_valid_solution(solution)
        assert np.all((puzzle == 0) | (puzzle == solution))
        assert sudoku.count_solutions(puzzle) == 1
        assert np.array_equal(sudoku.solve(puzzle), solution)


def test_sudoku_9x9_and_difficulty_control():
    (easy, sol), = sudoku.generate(1, 9, difficulty=0.3, seed=1)
    (hard, _), = sudoku.generate(1, 9, difficulty=1.0, seed=1)
    assert sudoku.is_valid_solution(sol)
    assert (easy > 0).sum() > (hard > 0).sum()
    with pytest.raises(ValueError, match="difficulty"):
        sudoku.make_puzzle(sol, np.random.default_rng(0), 1.5)
    with pytest.raises(ValueError, match="unsupported sudoku size"):
        sudoku.generate(1, 5)


def _brute_force_count(grid: np.ndarray, limit: int = 2) -> int:
    """A plain recursive count, independent of the compiled search, to check it against."""
    n = grid.shape[0]
    br, bc = sudoku.box_shape(n)
    zeros = np.argwhere(grid == 0)
    if len(zeros) == 0:
        return 1
    r, c = zeros[0]
    used = set(grid[r]) | set(grid[:, c]) | set(grid[r - r % br:r - r % br + br, c - c % bc:c - c % bc + bc].ravel())
    total = 0
    for d in range(1, n + 1):
        if d not in used:
            grid[r, c] = d
            total += _brute_force_count(grid, limit - total)
            grid[r, c] = 0
            if total >= limit:
                break
    return total


def test_compiled_search_counts_like_a_plain_search():
    rng = np.random.default_rng(5)
    for puzzle, solution in sudoku.generate(6, 4, seed=8) + sudoku.generate(4, 6, seed=8):
        for _ in range(3):   # blank a few more cells: puzzles with 1, 2 or more solutions
            loose = puzzle.copy()
            loose.ravel()[rng.choice(loose.size, 3, replace=False)] = 0
            assert sudoku.count_solutions(loose, 2) == _brute_force_count(loose.copy(), 2)
    contradiction = np.zeros((4, 4), np.int64)
    contradiction[0, :2] = 1
    assert sudoku.count_solutions(contradiction) == 0 and sudoku.solve(contradiction) is None


def test_9x9_generator_hits_the_givens_asked_for_and_minimal_puzzles_are_minimal():
    pairs = sudoku.generate(20, 9, seed=4, givens=(30, 35))
    for puzzle, solution in pairs:
        assert 30 <= (puzzle > 0).sum() <= 35
        assert sudoku.is_valid_solution(solution) and np.all((puzzle == 0) | (puzzle == solution))
        assert sudoku.count_solutions(puzzle) == 1 and np.array_equal(sudoku.solve(puzzle), solution)
        assert not sudoku.is_minimal(puzzle)   # 30+ givens: some can go
    for puzzle, solution in sudoku.generate(10, 9, seed=4):
        assert sudoku.count_solutions(puzzle) == 1 and sudoku.is_minimal(puzzle)
        assert (puzzle > 0).sum() < 30
    with pytest.raises(ValueError, match="givens"):
        sudoku.generate(1, 9, givens=(40, 90))


def _distinct_minirow_sets(grid: np.ndarray) -> int:
    """Distinct digit sets among the 27 three-cell row pieces: 9 (or 3 when transposed) for every shuffle of
    the base pattern (digit, row, column and band permutations keep the count), ~20-27 for grids from elsewhere."""
    return len({frozenset(grid[r, c:c + 3].tolist()) for r in range(9) for c in range(0, 9, 3)})


def test_varied_grids_are_not_one_pattern_in_disguise():
    rng = np.random.default_rng(2)
    pattern = [sudoku.random_solution(9, rng, "pattern") for _ in range(20)]
    varied = [sudoku.random_solution(9, rng) for _ in range(20)]
    assert all(sudoku.is_valid_solution(g) for g in pattern + varied)
    assert {_distinct_minirow_sets(g) for g in pattern} <= {3, 9}
    assert np.mean([_distinct_minirow_sets(g) for g in varied]) > 15
    for size in (4, 6):
        assert sudoku.is_valid_solution(sudoku.random_solution(size, rng))


def test_rating_grows_as_givens_shrink():
    """Fewer givens: more search and harder techniques, on average (the rating is monotone in difficulty)."""
    bands = [sudoku.generate(40, 9, seed=9, givens=g) for g in ((45, 50), (32, 34), (0, 0))]
    ratings = [[sudoku.rate(p) for p, _ in band] for band in bands]
    nodes = [np.mean([r.search_nodes for r in band]) for band in ratings]
    level = [np.mean([int(r.technique) for r in band]) for band in ratings]
    givens = [np.mean([r.givens for r in band]) for band in ratings]
    assert givens[0] > givens[1] > givens[2]
    assert nodes[0] < nodes[1] < nodes[2], nodes
    assert level[0] <= level[1] <= level[2] and level[0] < level[2], level
    easy = sudoku.rate(bands[0][0][0])
    assert easy.technique == sudoku.Technique.NAKED_SINGLES and easy.to_dict()["technique"] == "naked_singles"


@pytest.mark.parametrize("size", [4, 6, 9])
def test_sudoku_augmentation_keeps_puzzle_and_solution_consistent(size):
    rng = np.random.default_rng(0)
    (puzzle, solution), = sudoku.generate(1, size, difficulty=0.5, seed=2)
    for _ in range(10):
        p, s = sudoku.augment_sudoku(puzzle, rng, solution)
        assert sudoku.is_valid_solution(s)
        assert np.all((p == 0) | (p == s)) and (p == 0).sum() == (puzzle == 0).sum()


def test_sudoku_tokens_follow_official_encoding():
    grid = np.array([[0, 1, 2, 3], [2, 3, 0, 1], [1, 0, 3, 2], [3, 2, 1, 0]])
    tokens = sudoku.encode(grid)
    assert tokens[0] == 1 and tokens[1] == 2           # blank -> 1, digit d -> d + 1
    assert np.array_equal(sudoku.decode(tokens, 4), grid)
    assert sudoku.vocab_size(9) == 11


def test_maze_path_is_shortest_and_dihedral_roundtrips():
    (grid, solved), = maze.generate(1, 11, seed=4)
    path = maze.shortest_path(grid)
    assert (solved == maze.PATH).sum() == len(path) - 2
    for k in range(8):
        g = maze.dihedral(grid, k)
        assert len(maze.shortest_path(g)) == len(path)   # transforms keep path length
    assert maze.from_text(maze.to_text(grid), 11).tolist() == grid.tolist()
    with pytest.raises(ValueError, match="outside"):
        maze.from_text("X" * 121, 11)


def test_csv_roundtrip_sudoku_and_maze(tmp_path):
    ps = sudoku.to_puzzle_set(sudoku.generate(4, 9, difficulty=0.4, seed=0))
    formats.write_csv(ps, tmp_path / "s.csv")
    header = (tmp_path / "s.csv").read_text().splitlines()[0]
    assert header == "source,question,answer,rating"
    back = formats.read_csv(tmp_path / "s.csv", "sudoku")
    assert np.array_equal(back.inputs, ps.inputs) and np.array_equal(back.labels, ps.labels)
    assert back.meta.vocab_size == 11 and back.meta.seq_len == 81
    mz = maze.to_puzzle_set(maze.generate(3, 9, seed=0))
    formats.write_csv(mz, tmp_path / "m.csv")
    assert np.array_equal(formats.read_csv(tmp_path / "m.csv", "maze").labels, mz.labels)


def test_bad_csv_is_reported_with_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("source,question,answer,rating\nx,1.3.3.1.2.4.4.2.,1234341221434321,0\nx,1.3,123,0\n")
    with pytest.raises(ValueError, match="bad.csv:3"):
        formats.read_csv(bad, "sudoku")
    (tmp_path / "hdr.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="expected header"):
        formats.read_csv(tmp_path / "hdr.csv", "sudoku")


def test_built_layout_roundtrip_and_official_json_fields(tmp_path):
    ps = sudoku.to_puzzle_set(sudoku.generate(5, 4, seed=0))
    formats.write_built(ps, tmp_path / "test")
    meta = json.loads((tmp_path / "test" / "dataset.json").read_text())
    for key in ("pad_id", "ignore_label_id", "blank_identifier_id", "vocab_size", "seq_len",
                "num_puzzle_identifiers", "total_groups", "mean_puzzle_examples", "sets"):
        assert key in meta
    for name in formats.BUILT_ARRAYS:
        assert (tmp_path / "test" / f"all__{name}.npy").is_file()
    back = formats.read_built(tmp_path / "test")
    assert np.array_equal(back.inputs, ps.inputs) and back.meta.grid_shape == (4, 4)
    with pytest.raises(FileNotFoundError, match="dataset.json"):
        formats.read_built(tmp_path)


def test_arc_folder_encoding_and_augmentation(tmp_path):
    task = {"train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1], [0, 0]]}],
            "test": [{"input": [[5]], "output": [[6]]}]}
    (tmp_path / "abc.json").write_text(json.dumps(task))
    ps = arc.load_folder(tmp_path, "train", augment=3)
    assert len(ps) == 4 and ps.meta.seq_len == 900 and ps.meta.vocab_size == 12
    assert arc.decode_grid(ps.labels[0]).tolist() == [[4, 3], [2, 1], [0, 0]]
    canvas = ps.inputs[0].reshape(30, 30)
    assert canvas[2, 0] == arc.EOS and canvas[0, 2] == arc.EOS and canvas[3, 3] == arc.PAD
    for row in ps.labels[1:]:     # augmented outputs keep the background colour count
        assert (arc.decode_grid(row) == 0).sum() == 2
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ValueError, match="not an ARC task"):
        arc.load_folder(tmp_path)


def test_generated_splits_are_disjoint():
    train, test = load_splits(DataSpec(task="sudoku", grid_size=4, train_puzzles=200, test_puzzles=100))
    seen = {r.tobytes() for r in train.inputs}
    assert len(test) > 50 and not any(r.tobytes() in seen for r in test.inputs)
    with pytest.raises(ValueError, match="unknown task"):
        load_splits(DataSpec(task="chess"))


def test_exact_accuracy_ignores_unlabelled_cells():
    labels = np.array([[2, 3, 0], [2, 3, 4]])
    preds = np.array([[2, 3, 9], [2, 3, 5]])
    assert exact_accuracy(preds, labels, 0).tolist() == [True, False]


def test_generated_sets_are_cached_and_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("TRM_EDGE_CACHE", str(tmp_path))
    spec = DataSpec(task="maze", grid_size=7, train_puzzles=5, test_puzzles=3)
    first = load_splits(spec)
    assert len(list((tmp_path / "generated").glob("*.npz"))) == 2
    second = load_splits(spec)
    for a, b in zip(first, second):
        assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.labels, b.labels)
        assert a.meta.task == b.meta.task == "maze"
