"""TensorBoard logging, as torch.utils.tensorboard: `from engine.utils.tensorboard import
SummaryWriter`. The events files are written by hand (records.py: protobuf and the TFRecord
frame; summary.py: what each add_* logs; writer.py: the files), so neither TensorBoard nor
protobuf need be installed to write them, only to look at them."""
from __future__ import annotations

from engine.utils.tensorboard.writer import SummaryWriter

__all__ = ["SummaryWriter"]
