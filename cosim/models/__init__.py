"""Model stacks, tasks, training loop and checkpoints."""
from .checkpoint import CheckpointError, load, save
from .stack import Model, ModelConfig
from .tasks import TaskData, from_arrays, make_task
from .train import TrainConfig, evaluate, train

__all__ = ["Model", "ModelConfig", "TaskData", "make_task", "from_arrays", "TrainConfig",
           "train", "evaluate", "save", "load", "CheckpointError"]
