"""Data-parallel training over several processes with the JAX backend's `keras.distribution`.

Every process runs the same command on the same data: the same seed draws the same global batches
in each, and each process feeds only its slice of every batch. Keras assembles the slices into one
global batch sharded over all devices (`jax.make_array_from_process_local_data`), so each step is
one program over every device: the loss and its gradient are those of the whole global batch, and
the weights stay identical (replicated) everywhere. Only process 0 writes the model file.

Keras 3 has no multi-worker path on TensorFlow (keras-team/keras#20585), which is why this is
JAX-only. On CPUs the collectives run over gloo; on GPUs JAX uses NCCL by itself.
"""

import os
from dataclasses import dataclass

import keras
import numpy as np

ENV_ADDRESS = "KERAS_DISTRIBUTION_JOB_ADDRESSES"  # what keras.distribution.initialize reads itself


@dataclass
class ProcessGroup:
    index: int  # this process's id, 0 .. count - 1
    count: int  # processes in the job
    devices: int  # devices over all processes (the global batch is split over them)
    distribution: object  # keras.distribution.DataParallel

    @property
    def is_chief(self):
        return self.index == 0

    def scope(self):
        return self.distribution.scope()

    def shard(self, batches):
        return ProcessShard(batches, self.index, self.count, self.devices)


def join(coordinator=None, num_processes=1, process_id=0, batch_size=None):
    """Join the job (when there is more than one process) and return its ProcessGroup.

    `coordinator` is process 0's "host:port" (default: $KERAS_DISTRIBUTION_JOB_ADDRESSES). With
    one process and no coordinator nothing is joined: data parallelism over this machine's devices.
    ValueError for what cannot work: another backend, a batch that does not split over the devices."""
    if keras.backend.backend() != "jax":
        raise ValueError(f"needs the JAX backend: run with KERAS_BACKEND=jax (it is {keras.backend.backend()}); "
                         "Keras 3 has no multi-process training on TensorFlow")
    if not 0 <= process_id < num_processes:
        raise ValueError(f"process id {process_id} is not one of 0..{num_processes - 1} (--num-processes {num_processes})")
    coordinator = coordinator or os.environ.get(ENV_ADDRESS)
    if num_processes > 1 and not coordinator:
        raise ValueError("several processes need process 0's address: give --coordinator HOST:PORT")
    import jax

    if coordinator:
        # the CPU devices' collectives (JAX has none across processes by default); GPUs use NCCL anyway
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize(job_addresses=coordinator, num_processes=num_processes, process_id=process_id)
    devices = keras.distribution.list_devices()
    if batch_size is not None and batch_size % len(devices):
        raise ValueError(f"a batch of {batch_size} does not split evenly over {len(devices)} devices "
                         f"({num_processes} processes); give a --batch-size that is a multiple of {len(devices)}")
    # each process already feeds its own slice (ProcessShard), so Keras must not shard the data again
    distribution = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
    return ProcessGroup(index=process_id, count=num_processes, devices=len(devices), distribution=distribution)


def _rows(part, start, stop):
    """Rows start..stop of a batch's array, or of each array of its named inputs (a dict)."""
    if isinstance(part, dict):
        return {name: np.asarray(array[start:stop]) for name, array in part.items()}
    return np.asarray(part[start:stop])


class ProcessShard(keras.utils.PyDataset):
    """This process's rows of each global batch of `batches` (a PyDataset of numpy batches, whose
    inputs may be named: a dict of arrays).

    Each global batch is cut to a multiple of `devices` rows (only a last, partial batch loses up
    to devices - 1 rows; one smaller than that is skipped), and process `index` of `count` takes its
    contiguous share. Widths were already chosen from the whole global batch, so every process's
    slice has the same shape."""

    def __init__(self, batches, index, count, devices):
        super().__init__()
        self.batches, self.index, self.count, self.devices = batches, index, count, devices
        self.kept = self._kept()

    def _kept(self):
        return [i for i in range(len(self.batches)) if self.batches.rows_in(i) >= self.devices]

    def __len__(self):
        return len(self.kept)

    def __getitem__(self, index):
        rows = self.batches.rows_in(self.kept[index])
        share = (rows - rows % self.devices) // self.count
        start = self.index * share
        return tuple(_rows(part, start, start + share) for part in self.batches[self.kept[index]])

    def on_epoch_end(self):
        self.batches.on_epoch_end()
        self.kept = self._kept()
