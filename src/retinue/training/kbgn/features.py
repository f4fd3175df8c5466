"""Region features for the vision graph: a small CNN over each object's crop, plus the crop's box.

Real VisDial uses Faster R-CNN features; offline, the regions are the rendered objects' boxes. The CNN
is trained on the training scenes' crops to name each crop's shape and colour, and its penultimate layer
is the region's appearance; the box (x, y, width, height as fractions of the picture) adds position and
size, which a fixed-size crop cannot show. Edges carry the relative position of two regions.
"""

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from retinue.training.kbgn.scenes import COLOURS, SHAPES, SIZE, Dialog, render

CROP = 16
APPEARANCE_DIM = 32
REGION_DIM = APPEARANCE_DIM + 4
RELATION_DIM = 4
MAX_REGIONS = 5


class CropEncoder(nn.Module):
    """Two convolutions and a projection; heads for shape and colour train it."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * (CROP // 4) ** 2, APPEARANCE_DIM),
            nn.ReLU(),
        )
        self.shape_head = nn.Linear(APPEARANCE_DIM, len(SHAPES))
        self.colour_head = nn.Linear(APPEARANCE_DIM, len(COLOURS))

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.body(crops)  # type: ignore[no-any-return]


def crops_and_boxes(dialog: Dialog) -> tuple[np.ndarray, np.ndarray]:
    """Each object's crop, resized to CROP x CROP (float32, channels first, 0..1), and its box."""
    picture = render(dialog.objects)
    crops, boxes = [], []
    for obj in dialog.objects:
        x0, y0, x1, y1 = obj.box()
        rows = np.clip(np.linspace(y0, y1 - 1, CROP).round().astype(int), 0, SIZE - 1)
        cols = np.clip(np.linspace(x0, x1 - 1, CROP).round().astype(int), 0, SIZE - 1)
        crops.append(picture[np.ix_(rows, cols)].transpose(2, 0, 1).astype(np.float32) / 255.0)
        boxes.append(np.array([x0, y0, x1 - x0, y1 - y0], dtype=np.float32) / SIZE)
    return np.stack(crops), np.stack(boxes)


def train_crop_encoder(dialogs: Sequence[Dialog], epochs: int = 3, seed: int = 0) -> CropEncoder:
    """The CNN trained to name the shape and colour of the training scenes' crops."""
    torch.manual_seed(seed)
    crops, shapes, colours = [], [], []
    for dialog in dialogs:
        pictures, _ = crops_and_boxes(dialog)
        crops.append(pictures)
        shapes += [SHAPES.index(o.shape) for o in dialog.objects]
        colours += [list(COLOURS).index(o.colour) for o in dialog.objects]
    x = torch.from_numpy(np.concatenate(crops))
    y_shape, y_colour = torch.tensor(shapes), torch.tensor(colours)
    encoder = CropEncoder()
    optimiser = torch.optim.Adam(encoder.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(128):
            appearance = encoder(x[batch])
            loss = nn.functional.cross_entropy(encoder.shape_head(appearance), y_shape[batch])
            loss = loss + nn.functional.cross_entropy(encoder.colour_head(appearance), y_colour[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return encoder.eval()


@torch.no_grad()
def region_features(encoder: CropEncoder, dialogs: Sequence[Dialog]) -> tuple[np.ndarray, np.ndarray]:
    """(regions, mask): (N, MAX_REGIONS, REGION_DIM) appearance and box per object, zero-padded."""
    regions = np.zeros((len(dialogs), MAX_REGIONS, REGION_DIM), dtype=np.float32)
    mask = np.zeros((len(dialogs), MAX_REGIONS), dtype=bool)
    for i, dialog in enumerate(dialogs):
        crops, boxes = crops_and_boxes(dialog)
        appearance = encoder(torch.from_numpy(crops)).numpy()
        count = len(dialog.objects)
        regions[i, :count] = np.concatenate([appearance, boxes], axis=1)
        mask[i, :count] = True
    return regions, mask


def relations(regions: torch.Tensor) -> torch.Tensor:
    """Edge features (..., R, R, RELATION_DIM) from the boxes at the end of each region's features:
    centre offsets, distance and size ratio."""
    box = regions[..., -4:]
    centre = box[..., :2] + box[..., 2:] / 2
    offset = centre.unsqueeze(-2) - centre.unsqueeze(-3)
    distance = offset.norm(dim=-1, keepdim=True)
    area = (box[..., 2] * box[..., 3]).clamp(min=1e-4)
    ratio = (area.unsqueeze(-1) / area.unsqueeze(-2)).unsqueeze(-1).clamp(max=10.0)
    return torch.cat([offset, distance, ratio], dim=-1)
