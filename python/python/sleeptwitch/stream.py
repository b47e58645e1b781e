"""The streaming detector, chunk by chunk from Python."""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported at run time (see night.py)

from . import _sleeptwitch as _native
from .errors import SleeptwitchError
from .night import Events, _columns, _config_arg

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Dict, List, Optional, Sequence, Tuple

    from .night import ConfigLike

__all__ = ["Detector"]


class Detector:
    """The streaming core: push samples in chunks of any size, get events as they become final.

    ``sample_rate_hz`` is the sensor's nominal rate in Hz (a keyword, required unless
    ``sites`` is given); ``site`` where it is worn. For a night seen by several sensors give
    ``sites``: ``(site, sample rate in Hz)`` per sensor, numbered in that order by
    :meth:`push`'s ``site_idx``; push them in step by time.

    Any split of a night into chunks (one sample, none, or all at once) gives exactly the
    same events: concatenating what every :meth:`push` returned and what :meth:`finish`
    returned (:meth:`Events.concat`) equals :func:`analyze_arrays` on the whole night.
    Events arrive at most :attr:`latency_s` seconds of input after their offset.

    The GIL is released while samples are processed. One detector serves one thread at a
    time; run nights in parallel with one detector each.

    >>> det = Detector(sample_rate_hz=50.0)
    >>> parts = [det.push(t, acc) for t, acc in chunks]      # doctest: +SKIP
    >>> rest, summary = det.finish()                          # doctest: +SKIP
    >>> events = Events.concat(parts + [rest])                # doctest: +SKIP
    """

    def __init__(
        self,
        config: ConfigLike = None,
        *,
        sample_rate_hz: Optional[float] = None,
        site: str = "ankle",
        sites: Optional[Sequence[Tuple[str, float]]] = None,
    ) -> None:
        if sites is None:
            if sample_rate_hz is None:
                raise TypeError("Detector needs sample_rate_hz (in Hz), or sites=[(site, rate_hz), ...]")
            sites = [(site, float(sample_rate_hz))]
        elif sample_rate_hz is not None:
            raise TypeError("give sample_rate_hz or sites, not both")
        self._native = _native._Detector([(str(s), float(r)) for s, r in sites], _config_arg(config))

    def push(self, t_s: Any, acc_g: Any, site_idx: int = 0) -> Events:
        """Takes the next samples of sensor ``site_idx`` and returns the events that became final.

        ``t_s``: times ``(n,)`` in seconds, strictly increasing across pushes; ``acc_g``:
        acceleration ``(n, 3)`` in g. float64 arrays are read in place.

        Raises :class:`~sleeptwitch.InputError` naming the bad sample's index in the stream
        (from 0); the samples before it were processed and the events they made final are
        the exception's ``events`` attribute.
        """
        t, acc = _columns(t_s, acc_g)
        try:
            columns = self._native.push(t, acc, site_idx)
        except SleeptwitchError as e:
            if e.events is not None:
                e.events = Events._from_columns(e.events)
            raise
        return Events._from_columns(columns)

    def finish(self) -> Tuple[Events, Dict[str, Any]]:
        """Ends the night: returns the events still pending and the night's summary.

        The summary dict holds each sensor's stream (``sites``: samples, span, rate, gaps,
        calibration), the night's ``metrics`` (indices per hour, times in seconds), the
        ``sleep_bouts``, ``n_events`` per kind (in the order of :data:`KINDS`) and
        ``latency_s``. The detector is then reset, ready for a new night.
        """
        columns, summary = self._native.finish()
        import json
        result: Dict[str, Any] = json.loads(summary)
        return Events._from_columns(columns), result

    def take_notices(self) -> List[Dict[str, Any]]:
        """What the detector told besides events since the last call, in the order told.

        Each notice is a dict with a ``kind``: ``"gap"`` (``start_s``, ``duration_s``: no
        samples for longer than the gap rule allows), ``"sleep_onset"`` (``t_s``) or
        ``"unworn"`` (``site``, ``start_s``, ``end_s``: the sensor lay as still as one off
        the body; told once no later window can extend it). Times are in seconds on the
        input's clock. For a live stream: a gap or an unworn stretch is worth showing as it
        comes. Notices of :meth:`push` and :meth:`finish` wait here until taken; the
        night's summary holds the gaps and unworn time too.
        """
        return list(self._native.take_notices())

    def reset(self) -> None:
        """Forgets the night and any notice not taken: the next sample starts a new one."""
        self._native.reset()

    @property
    def latency_s(self) -> float:
        """Upper bound on the time from an event's offset to its delivery, in seconds of input."""
        return float(self._native.latency_s)

    @property
    def sites(self) -> List[str]:
        """The sites, in the order ``site_idx`` numbers them."""
        return list(self._native.sites)
