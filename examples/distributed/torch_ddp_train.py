"""Trains a gMLP classifier on the digits that ship with keras_gmlp with
PyTorch's DistributedDataParallel, one process a CPU core:

    torchrun --standalone --nproc_per_node 2 \\
        examples/distributed/torch_ddp_train.py --epochs 10

On the torch backend a Keras model is a `torch.nn.Module` whose weights are
`torch.nn.Parameter`s, so DDP wraps it (see `KerasModule`) and a plain torch
loop trains it: each process computes the gradients of its share of the batch, and DDP
averages them over the processes (with gloo on CPUs) during `backward()`.
Rank 0 prints the loss of each epoch, the held-out accuracy and how far the
processes' weights drifted apart (0.0: they train in lockstep), as JSON.

The model and its preprocessing are `keras-gmlp train`'s default ones. On
GPUs, use the "nccl" backend and call `torch.cuda.set_device(local_rank)`
before the model is built.
"""

import os

os.environ["KERAS_BACKEND"] = "torch"

import argparse
import json

import keras
import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from torch.utils.data import TensorDataset
from torch.utils.data.distributed import DistributedSampler

from keras_gmlp.cli import small_image_classifier
from keras_gmlp.cli_data import split_indices
from keras_gmlp.data import load_digits


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--limit", type=int, help="use only this many digits")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


class KerasModule(torch.nn.Module):
    """A Keras model with its trainable weights as the module's parameters.

    keras-hub's models set their attributes around `torch.nn.Module` while
    they are built on torch, so their own `parameters()` come back empty;
    the weights are `torch.nn.Parameter`s all the same, and registering them
    here gives DDP and the optimizer what they need.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.weights = torch.nn.ParameterList(
            variable.value for variable in model.trainable_variables
        )

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)


def digits(classifier, limit, seed):
    """Preprocessed train and held-out digits, as torch tensors."""
    images, labels = load_digits()
    # The preprocessor resizes and rescales; it runs once, before training.
    inputs = torch.as_tensor(np.asarray(classifier.preprocessor(images)))
    train, held_out = split_indices(labels, 0.2, seed, limit)
    labels = torch.as_tensor(labels, dtype=torch.long)
    return (inputs[train], labels[train]), (inputs[held_out], labels[held_out])


def train_epoch(model, optimizer, loader):
    """One pass over this process's share of the data; the mean loss over
    all processes."""
    total = torch.zeros(2)
    for inputs, labels in loader:
        loss = torch.nn.functional.cross_entropy(model(inputs, training=True), labels)
        optimizer.zero_grad()
        loss.backward()  # DDP all-reduces the gradients here
        optimizer.step()
        total += torch.stack([loss.detach() * len(labels), torch.tensor(len(labels))])
    dist.all_reduce(total)
    return float(total[0] / total[1])


def weight_drift(model):
    """The largest difference between this process's weights and rank 0's."""
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    reference = weights.clone()
    dist.broadcast(reference, src=0)
    drift = (weights - reference).abs().max()
    dist.all_reduce(drift, op=dist.ReduceOp.MAX)
    return float(drift)


def main():
    args = parse_args()
    torch.set_num_threads(1)  # one core a process
    dist.init_process_group("gloo")
    # The same seed everywhere; DDP also copies rank 0's weights to the rest.
    keras.utils.set_random_seed(args.seed)
    classifier = small_image_classifier(num_classes=10)
    (train_x, train_y), (held_out_x, held_out_y) = digits(
        classifier, args.limit, args.seed
    )
    model = DistributedDataParallel(KerasModule(classifier))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    sampler = DistributedSampler(TensorDataset(train_x, train_y), seed=args.seed)
    loader = DataLoader(sampler.dataset, batch_size=args.batch_size, sampler=sampler)
    losses = []
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        losses.append(train_epoch(model, optimizer, loader))
    with torch.no_grad():
        predictions = classifier(held_out_x).argmax(-1)
    result = {
        "processes": dist.get_world_size(),
        "losses": losses,
        "held_out_accuracy": float((predictions == held_out_y).float().mean()),
        "weight_drift": weight_drift(model),
    }
    if dist.get_rank() == 0:
        print(json.dumps(result))
    # DDP goes first, while the process group lives on, and the barrier lets
    # gloo's worker thread finish: a group that DDP's reducer destroys at exit
    # can deadlock, its thread waiting for the GIL that the exit holds.
    del model
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
