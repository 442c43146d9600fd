"""trm-edge: train the Tiny Recursive Model and ship it to phones.

    import trm_edge
    model = trm_edge.load("models/sudoku9-hard/checkpoint.pt")   # or an artifact folder
    print(model.solve("4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......").text)
"""
__version__ = "0.1.0"


def load(path, threads=None):
    """A checkpoint or an artifact folder that solves, evaluates and exports (see trm_edge.public.Model)."""
    from .public import load as _load

    return _load(path, threads)
