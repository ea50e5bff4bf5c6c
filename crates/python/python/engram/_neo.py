"""neo's array-backed ``SpikeTrainList``, materialised with one sort instead of one scan
of all spikes per neuron."""

import numpy as np
from neo.core.spiketrain import SpikeTrain
from neo.core.spiketrainlist import SpikeTrainList


class GroupedSpikeTrainList(SpikeTrainList):
    """A ``SpikeTrainList`` built from arrays (``from_spike_time_array``) that, when its
    trains are first asked for, groups the spikes by channel with one stable sort (each
    train keeps the spikes' time order) rather than neo's mask per channel, which costs
    O(neurons x spikes). The trains and their annotations are those neo would make."""

    def _spiketrains_from_array(self):
        if self._spike_time_array is None:
            self._items = []
            return
        ids = np.asarray(self._channel_id_array)
        all_ids = np.asarray(self._all_channel_ids)
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        lo = np.searchsorted(sorted_ids, all_ids, side="left")
        hi = np.searchsorted(sorted_ids, all_ids, side="right")
        times = self._spike_time_array[order]
        n = len(all_ids)
        items = []
        for i, channel_id in enumerate(all_ids.tolist()):
            train = SpikeTrain(times[lo[i] : hi[i]], **self._spiketrain_metadata)
            for name, value in self._annotations.items():
                per_channel = not isinstance(value, str) and hasattr(value, "__len__") and len(value) == n
                train.annotate(**{name: value[i] if per_channel else value})
            train.annotate(channel_id=channel_id)
            train.segment = self.segment
            items.append(train)
        self._items = items
