"""Peak GPU memory of a 3D-parallel configuration, to rule out plans that would not run.

Per GPU of pipeline stage i (Megatron-LM, mixed precision, Adam, no distributed optimizer, no activation
recomputation):
- model states: 16 bytes per parameter held (fp16 weights 2 + fp16 gradients 2 + fp32 master weights 4
  + Adam moments 8), for the stage's layers split over tp GPUs, plus the embedding on the first stage
  (and its tied copy on the last);
- activations: s b h (10 + 24 / tp + 5 a s / (h tp)) bytes per layer and micro-batch (Korthikanti et
  al., 2022, sequence parallelism off), and under 1F1B stage i keeps min(p - i, m) micro-batches in flight;
- a fixed 2 GB for the CUDA context, kernels and fragmentation.
"""

from dataclasses import dataclass

from retinue.training.pipette.model import ModelSpec

STATE_BYTES_PER_PARAM = 16
OVERHEAD_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Parallelism:
    tp: int
    pp: int
    dp: int
    micro_batch: int
    micro_batches: int  # per pipeline, per iteration

    def __str__(self) -> str:
        return f"tp={self.tp} pp={self.pp} dp={self.dp} mb={self.micro_batch} m={self.micro_batches}"


def layers_per_stage(model: ModelSpec, pp: int) -> int:
    return -(-model.layers // pp)  # the largest stage sets the pace and the peak


def activation_bytes_per_layer(model: ModelSpec, micro_batch: int, tp: int) -> float:
    s, b, h, a = model.seq_len, micro_batch, model.hidden, model.heads
    return s * b * h * (10 + 24 / tp + 5 * a * s / (h * tp))


def stage_memory_bytes(model: ModelSpec, plan: Parallelism, stage: int) -> float:
    layers = layers_per_stage(model, plan.pp)
    params = layers * model.layer_params / plan.tp
    if stage == 0 or stage == plan.pp - 1:
        params += model.embedding_params / plan.tp
    in_flight = min(plan.pp - stage, plan.micro_batches)
    activations = layers * activation_bytes_per_layer(model, plan.micro_batch, plan.tp) * in_flight
    return STATE_BYTES_PER_PARAM * params + activations + OVERHEAD_BYTES


def peak_memory_gb(model: ModelSpec, plan: Parallelism) -> float:
    return max(stage_memory_bytes(model, plan, stage) for stage in range(plan.pp)) / 1024**3
