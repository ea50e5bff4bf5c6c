"""engram from Python: run a spiking network from a config, read its output as numpy
arrays, hand it to neo, elephant and NWB.

>>> import engram
>>> r = engram.run("configs/cuba.toml", seed=2, threads=2)
>>> r.spikes["E"].times_ms, r.spikes["E"].node_ids        # numpy arrays
>>> block = r.to_neo()                                     # neo Block (array-backed)
>>> r.to_nwb("cuba.nwb"); r.save("cuba.h5")                # NWB file; the CLI's HDF5 file

A run goes through the same code as ``engram run`` (the config reader, the simulation,
the HDF5 writer), so the same config and seed give the CLI's spikes bit for bit; the
result is then read back from that file. Errors raise :class:`ConfigError` (with the
CLI's message, file, line and field path), :class:`InputError` or :class:`RunFailed`.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import _engram, _toml
from ._errors import ConfigError, EngramError, InputError, RunFailed

__version__ = _engram.__version__
__all__ = [
    "run",
    "read",
    "sweep",
    "check",
    "Result",
    "Spikes",
    "Report",
    "Sweep",
    "EngramError",
    "ConfigError",
    "InputError",
    "RunFailed",
]


class Spikes(NamedTuple):
    """The spikes of one population: times (ms, float64) and node ids (uint64, the index
    of the neuron in its population), sorted by time, then node id; ``n`` neurons."""

    times_ms: np.ndarray
    node_ids: np.ndarray
    n: int


class Report(NamedTuple):
    """Samples of one state variable of chosen neurons (``[[output.reports]]``):
    ``data[j, c]`` is neuron ``node_ids[c]`` at time ``time_ms[j]``, in ``units``."""

    population: str
    variable: str
    units: str
    node_ids: np.ndarray
    time_ms: np.ndarray
    data: np.ndarray


def _config_source(config):
    """(source, is_text, file name for messages, text made from a dict)."""
    if isinstance(config, dict):
        return _toml.dumps(config), True, "<dict>", True
    if isinstance(config, os.PathLike):
        path = os.fspath(config)
        return path, False, path, False
    if isinstance(config, str):
        # A file name has no line breaks and no '='; TOML text always has one or the other.
        if "\n" in config or ("=" in config and not os.path.exists(config)):
            return config, True, "<string>", False
        return config, False, config, False
    raise TypeError(
        f"config must be a path, TOML text or a dict, not {type(config).__name__}"
    )


def _sets(set):
    """``set=`` as the CLI's list of ``path=value`` edits: a list of such strings, or a
    dict {dotted path: value} whose values are written as TOML."""
    if set is None:
        return []
    if isinstance(set, str):
        return [set]
    if isinstance(set, dict):
        return [f"{k}={_toml.value(v, k)}" for k, v in set.items()]
    return [str(s) for s in set]


def _in_notebook():
    shell = sys.modules.get("IPython")
    try:
        ip = shell.get_ipython() if shell else None
    except Exception:  # pragma: no cover - IPython internals
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


class _Tqdm:
    """A progress callback drawing a tqdm bar over simulated steps."""

    def __init__(self):
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        self.bar = None

    def __call__(self, done, total, time_ms, phase):
        if self.bar is None:
            self.bar = self._tqdm(total=total, unit="step", unit_scale=True, desc="engram")
        self.bar.n = done
        self.bar.set_postfix_str(f"{phase + ' ' if phase else ''}t = {time_ms:.0f} ms", refresh=False)
        self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _progress(progress):
    """The callback for ``progress=``: None draws a tqdm bar in a notebook when tqdm is
    installed (nothing elsewhere), True a tqdm bar anywhere, False nothing; a callable is
    called as ``progress(done_steps, total_steps, time_ms, phase)``."""
    if progress is None:
        progress = _in_notebook()
        if not progress:
            return None
        try:
            return _Tqdm()
        except ImportError:
            return None
    if progress is True:
        return _Tqdm()
    if progress is False:
        return None
    if callable(progress):
        return progress
    raise TypeError("progress must be None, True, False or a callable")


def check(config, *, set=None, seed=None, memory_check=True):
    """Checks a config as ``engram check`` does (every check ``run`` makes before it
    builds the network); returns the config text a run would write. Raises
    :class:`ConfigError`."""
    source, text, file, generated = _config_source(config)
    return _engram.check(source, text, file, _sets(set), seed, memory_check, generated)


def run(
    config,
    *,
    set=None,
    seed=None,
    threads=None,
    output=None,
    force=False,
    memory_check=True,
    progress=None,
):
    """Runs a model and returns its :class:`Result`.

    ``config``: a config file (``str`` or path), TOML text, or a dict with the config
    schema (relative paths in text or a dict are relative to the working directory).
    ``set``: ``--set`` edits, a list of ``"path=value"`` strings or a dict {path: value}.
    ``seed`` replaces ``simulation.seed``; ``threads`` (default: all cores) does not change
    the result. ``output``: where the HDF5 file goes (default: a temporary file, kept as
    long as the result; :meth:`Result.save` copies it); an existing file is replaced only
    with ``force=True``. ``memory_check=False`` is the CLI's ``--no-memory-check``.
    ``progress``: see the README (a tqdm bar in notebooks, or your own callback).

    The interpreter lock is released while the network is built and simulated; Ctrl-C
    stops the run (``KeyboardInterrupt``) and leaves no file.
    """
    source, text, file, generated = _config_source(config)
    threads = threads or os.cpu_count() or 1
    tmp = None
    if output is None:
        tmp = tempfile.TemporaryDirectory(prefix="engram-")
        output = os.path.join(tmp.name, "run.h5")
        force = True
    callback = _progress(progress)
    try:
        summary = _engram.run(
            source,
            text,
            file,
            _sets(set),
            seed,
            int(threads),
            os.fspath(output),
            force,
            memory_check,
            generated,
            callback,
        )
    except BaseException:
        if tmp is not None:
            tmp.cleanup()
        raise
    finally:
        if isinstance(callback, _Tqdm):
            callback.close()
    import json

    result = read(output)
    result.summary = json.loads(summary)
    result._tmp = tmp
    return result


def read(path):
    """Reads an HDF5 file written by ``engram run`` (or any SONATA spike file) into a
    :class:`Result`. Raises :class:`InputError` for a missing or malformed file."""
    return Result(os.fspath(path), _engram.read(os.fspath(path)))


class Result:
    """A run's output, in memory.

    - ``spikes``: {population: :class:`Spikes`} (times in ms, node ids), recorded
      populations in the config's order;
    - ``reports``: {(population, variable): :class:`Report`}, the state reports;
    - ``ach``: (time_ms, concentration) arrays, or None without acetylcholine;
    - ``weights``: {projection: {"source", "target", "weight_pa", "tag"}} arrays (with
      ``[output] weights = true``);
    - ``results``: the experiment's typed results as a dict (as ``engram run --json``), or
      None; ``protocol``: the experiment's phases as (name, start_ms, stop_ms);
    - ``provenance``: the ``/engram`` attributes (version, seed, dt_ms, duration_ms, ...);
      ``config``: the config text as run; ``parameters``: a sweep point's parameters;
    - ``summary``: the run summary of ``engram run --json`` (None for :func:`read`);
    - ``path``: the HDF5 file.
    """

    def __init__(self, path, data):
        import json

        self.path = path
        self.summary = None
        self._tmp = None
        self.spikes = {
            p["name"]: Spikes(p["times_ms"], p["node_ids"], int(p["n"]))
            for p in data["populations"]
        }
        self.provenance = dict(data["provenance"])
        self.parameters = dict(data["parameters"])
        self.config = data["config"]
        self.results = json.loads(data["results"]) if data["results"] else None
        self.ach = data["ach"]
        self.reports = {
            (r["population"], r["variable"]): Report(
                r["population"], r["variable"], r["units"], r["node_ids"], r["time_ms"], r["data"]
            )
            for r in data["reports"]
        }
        self.weights = {
            w["projection"]: {k: w[k] for k in ("source", "target", "weight_pa", "tag")}
            for w in data["weights"]
        }
        self.protocol = list(data["protocol"])

    def __repr__(self):
        pops = ", ".join(f"{k}: {len(s.times_ms)} spikes / {s.n}" for k, s in self.spikes.items())
        return f"<engram.Result {self.path!r} ({pops})>"

    @property
    def duration_ms(self):
        """The simulated time (ms); without provenance, the last spike's time."""
        d = self.provenance.get("duration_ms")
        if d is not None:
            return float(d)
        last = [float(s.times_ms[-1]) for s in self.spikes.values() if len(s.times_ms)]
        return max(last, default=0.0)

    @property
    def dt_ms(self):
        """The time step (ms), if the file says."""
        d = self.provenance.get("dt_ms")
        return None if d is None else float(d)

    def config_dict(self):
        """The config as run, parsed (Python 3.11+, or with the ``tomli`` package)."""
        try:
            import tomllib
        except ImportError:  # Python < 3.11
            import tomli as tomllib
        return tomllib.loads(self.config or "")

    def save(self, path, force=False):
        """Writes the run's HDF5 file (the file ``engram run -o`` writes) to ``path``;
        an existing file is replaced only with ``force=True``."""
        path = os.fspath(path)
        if os.path.exists(path) and not force:
            raise InputError(f"{path} exists; pass force=True to replace it")
        if os.path.abspath(path) != os.path.abspath(self.path):
            shutil.copyfile(self.path, path)
        return path

    def to_nwb(self, path, force=False):
        """Writes the run as an NWB 2 file (``engram export FILE --nwb PATH``): a Units
        table (spike times in seconds, ``resolution`` = dt, ``obs_intervals``,
        ``population`` and ``node_id`` columns), the config and the provenance."""
        return _engram.export_nwb(self.path, os.fspath(path), force)

    def to_neo(self):
        """The spikes as a ``neo.Block`` with one ``Segment`` whose ``spiketrains`` is an
        array-backed ``SpikeTrainList`` over every recorded neuron.

        Building it costs two array concatenations, whatever the number of neurons: no
        ``SpikeTrain`` exists until one is asked for. Asking for one (indexing or
        iterating ``spiketrains``) makes all of them, grouped with one sort of the spikes;
        neo then needs about 0.2 ms per ``SpikeTrain`` object (16 s for 80 000 neurons), so
        for large networks keep to ``spiketrains.multiplexed`` (ids and times) where you
        can. Channel ids are the neurons' indices over all recorded populations in order;
        each train is annotated with ``population`` and ``node_id``; the segment's
        annotation ``populations`` maps each population to its [first, last + 1) channel
        ids.
        """
        import neo
        import quantities as pq

        from ._neo import GroupedSpikeTrainList

        times, channels, population, node_id, ranges = [], [], [], [], {}
        offset = 0
        for name, s in self.spikes.items():
            times.append(s.times_ms)
            channels.append(s.node_ids.astype(np.int64) + offset)
            population.append(np.full(s.n, name, dtype=object))
            node_id.append(np.arange(s.n, dtype=np.int64))
            ranges[name] = (offset, offset + s.n)
            offset += s.n
        cat = lambda xs, dt: np.concatenate(xs) if xs else np.array([], dtype=dt)  # noqa: E731
        trains = GroupedSpikeTrainList.from_spike_time_array(
            cat(times, np.float64),
            cat(channels, np.int64),
            np.arange(offset, dtype=np.int64),
            t_stop=self.duration_ms * pq.ms,
            units=pq.ms,
            t_start=0.0 * pq.ms,
            population=cat(population, object),
            node_id=cat(node_id, np.int64),
        )
        block = neo.Block(name="engram run", file_origin=self.path)
        block.annotate(
            engram_version=str(self.provenance.get("version", "")),
            seed=int(self.provenance.get("seed", 0)),
        )
        seg = neo.Segment(name="run", file_origin=self.path)
        seg.annotate(populations=ranges)
        trains.segment = seg
        seg.spiketrains = trains
        block.segments.append(seg)
        seg.block = block
        return block


class Sweep:
    """A sweep folder (``engram sweep``): ``dir``, ``summary`` (the rows of
    ``summary.csv`` as dicts, numbers converted) and :meth:`point` (a point's
    :class:`Result`)."""

    def __init__(self, dir):
        import csv

        self.dir = Path(dir)
        self.summary = []
        table = self.dir / "summary.csv"
        if table.exists():
            with open(table, newline="") as f:
                for row in csv.DictReader(f):
                    self.summary.append({k: _number(v) for k, v in row.items()})

    def point(self, index):
        """The output of point ``index`` (``points/<index>.h5``, zero-padded)."""
        for path in sorted((self.dir / "points").glob("*.h5")):
            if path.stem.isdigit() and int(path.stem) == index:
                return read(path)
        raise InputError(f"{self.dir}: no output of point {index} (not run, or failed)")

    def __repr__(self):
        return f"<engram.Sweep {str(self.dir)!r} ({len(self.summary)} points)>"


def _number(text):
    for kind in (int, float):
        try:
            return kind(text)
        except (TypeError, ValueError):
            pass
    return text


def sweep(file, *, output=None, jobs=None, resume=False, force=False, shard=None, memory_check=True):
    """Runs a sweep file as ``engram sweep FILE`` does (same folder, same files, same
    point seeds); returns the :class:`Sweep`. ``output`` defaults to
    ``results/<sweep file stem>/``; ``jobs`` to all cores; ``shard`` is ``"I/N"``."""
    dir = _engram.sweep(
        os.fspath(file),
        None if output is None else os.fspath(output),
        jobs,
        resume,
        force,
        shard,
        memory_check,
    )
    return Sweep(dir)
