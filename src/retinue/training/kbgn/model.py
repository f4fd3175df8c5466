"""KBGN in torch, its modules named as in the paper (Jiang et al., ACM MM 2020, section 3).

1. Knowledge encoding, per modality: a vision graph (regions as nodes, relative geometry on the edges)
   and a text graph (the caption and the past rounds as nodes, their products on the edges). Each node
   gathers its neighbours with question-guided relation selection, then a graph convolution.
2. Knowledge storage: cross-modal bridges. Each node of one graph attends, guided by the question, over
   the other graph's nodes; a node-level gate mixes what the bridge brought into the node. Each graph is
   then pooled under the question, and a graph-level gate weighs the bridged summary against the
   graph's own.
3. Knowledge retrieval: an adaptive gate, from the question and both summaries, chooses how much vision
   and how much text knowledge to use.
4. A discriminative decoder ranks the candidate answers by their dot product with the result.

Ablations: `bridges=False` (each graph keeps its own nodes), `retrieval_gate=False` (vision and text
knowledge averaged), `question_only=True` (the question alone, as a baseline).
"""

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from retinue.training.kbgn.features import REGION_DIM, RELATION_DIM, relations

NEG = -1e9


@dataclass(frozen=True)
class KBGNConfig:
    vocab_size: int
    word_dim: int = 64
    hidden: int = 128
    bridges: bool = True
    retrieval_gate: bool = True
    question_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TextEncoder(nn.Module):
    """Word embeddings and an LSTM; a text is the LSTM's output at its last word (zeros for no words)."""

    def __init__(self, config: KBGNConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.word_dim, padding_idx=0)
        self.lstm = nn.LSTM(config.word_dim, config.hidden, batch_first=True)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        shape = tokens.shape[:-1]
        flat = tokens.reshape(-1, tokens.shape[-1])
        outputs, _ = self.lstm(self.embed(flat))
        lengths = (flat != 0).sum(dim=1)
        last = outputs[torch.arange(len(flat)), (lengths - 1).clamp(min=0)]
        return (last * (lengths > 0).unsqueeze(-1)).reshape(*shape, -1)


def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    weights = torch.softmax(scores.masked_fill(~mask, NEG), dim=dim)
    return weights * mask  # a node with no valid partner gets all-zero weights


class QuestionGuidedRelationSelection(nn.Module):
    """alpha_ij = softmax_j(w . tanh(W_r r_ij + W_q q)): which relations matter for this question."""

    def __init__(self, relation_dim: int, hidden: int) -> None:
        super().__init__()
        self.relation = nn.Linear(relation_dim, hidden)
        self.question = nn.Linear(hidden, hidden)
        self.score = nn.Linear(hidden, 1)

    def forward(self, edges: torch.Tensor, question: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        guided = torch.tanh(self.relation(edges) + self.question(question)[:, None, None, :])
        pair_mask = mask.unsqueeze(1) & mask.unsqueeze(2)
        return _masked_softmax(self.score(guided).squeeze(-1), pair_mask)


class GraphConvolution(nn.Module):
    """n_i' = ReLU(W_s n_i + sum_j alpha_ij W_n [n_j; r_ij])."""

    def __init__(self, relation_dim: int, hidden: int) -> None:
        super().__init__()
        self.own = nn.Linear(hidden, hidden)
        self.neighbour = nn.Linear(hidden + relation_dim, hidden)

    def forward(self, nodes: torch.Tensor, edges: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        count = nodes.shape[1]
        pairs = torch.cat([nodes.unsqueeze(1).expand(-1, count, -1, -1), edges], dim=-1)
        messages = (alpha.unsqueeze(-1) * self.neighbour(pairs)).sum(dim=2)
        return torch.relu(self.own(nodes) + messages)


class KnowledgeEncoding(nn.Module):
    """One modality's graph: relation selection under the question, then a graph convolution."""

    def __init__(self, relation_dim: int, hidden: int) -> None:
        super().__init__()
        self.relation_selection = QuestionGuidedRelationSelection(relation_dim, hidden)
        self.graph_convolution = GraphConvolution(relation_dim, hidden)

    def forward(
        self, nodes: torch.Tensor, edges: torch.Tensor, question: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        alpha = self.relation_selection(edges, question, mask)
        return self.graph_convolution(nodes, edges, alpha) * mask.unsqueeze(-1)


class CrossBridge(nn.Module):
    """Bridges from every node of one graph to the other graph's nodes, with a node-level gate."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.node = nn.Linear(hidden, hidden)
        self.other = nn.Linear(hidden, hidden)
        self.question = nn.Linear(hidden, hidden)
        self.score = nn.Linear(hidden, 1)
        self.node_gate = nn.Linear(2 * hidden, hidden)

    def forward(
        self,
        nodes: torch.Tensor,
        mask: torch.Tensor,
        other: torch.Tensor,
        other_mask: torch.Tensor,
        question: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(updated nodes, bridge weights beta (B, N, M))."""
        guided = torch.tanh(
            self.node(nodes)[:, :, None, :] + self.other(other)[:, None, :, :] + self.question(question)[:, None, None]
        )
        beta = _masked_softmax(self.score(guided).squeeze(-1), mask.unsqueeze(2) & other_mask.unsqueeze(1))
        bridged = beta @ other
        gate = torch.sigmoid(self.node_gate(torch.cat([nodes, bridged], dim=-1)))
        return (gate * nodes + (1 - gate) * bridged) * mask.unsqueeze(-1), beta


class GuidedPooling(nn.Module):
    """A graph's summary: its nodes weighted by attention under the question."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.node = nn.Linear(hidden, hidden)
        self.question = nn.Linear(hidden, hidden)
        self.score = nn.Linear(hidden, 1)

    def forward(self, nodes: torch.Tensor, mask: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        scores = self.score(torch.tanh(self.node(nodes) + self.question(question)[:, None])).squeeze(-1)
        return (_masked_softmax(scores, mask).unsqueeze(-1) * nodes).sum(dim=1)


class KnowledgeStorage(nn.Module):
    """Cross bridges both ways, then per graph the question-guided summary and the graph-level gate."""

    def __init__(self, hidden: int, bridges: bool) -> None:
        super().__init__()
        self.bridges = bridges
        self.vision_bridge = CrossBridge(hidden)
        self.text_bridge = CrossBridge(hidden)
        self.vision_pool = GuidedPooling(hidden)
        self.text_pool = GuidedPooling(hidden)
        self.vision_graph_gate = nn.Linear(2 * hidden, hidden)
        self.text_graph_gate = nn.Linear(2 * hidden, hidden)

    def forward(
        self,
        vision: torch.Tensor,
        vision_mask: torch.Tensor,
        text: torch.Tensor,
        text_mask: torch.Tensor,
        question: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(vision knowledge, text knowledge), each (B, hidden)."""
        own_vision = self.vision_pool(vision, vision_mask, question)
        own_text = self.text_pool(text, text_mask, question)
        if not self.bridges:
            return own_vision, own_text
        bridged_vision, _ = self.vision_bridge(vision, vision_mask, text, text_mask, question)
        bridged_text, _ = self.text_bridge(text, text_mask, vision, vision_mask, question)
        vision_summary = self.vision_pool(bridged_vision, vision_mask, question)
        text_summary = self.text_pool(bridged_text, text_mask, question)
        gate_v = torch.sigmoid(self.vision_graph_gate(torch.cat([vision_summary, own_vision], dim=-1)))
        gate_t = torch.sigmoid(self.text_graph_gate(torch.cat([text_summary, own_text], dim=-1)))
        return gate_v * vision_summary + (1 - gate_v) * own_vision, gate_t * text_summary + (1 - gate_t) * own_text


class KnowledgeRetrieval(nn.Module):
    """g = sigmoid(W [q; K_v; K_t]); e = tanh(W_e [q; g * K_v + (1 - g) * K_t])."""

    def __init__(self, hidden: int, adaptive: bool) -> None:
        super().__init__()
        self.adaptive = adaptive
        self.gate = nn.Linear(3 * hidden, hidden)
        self.fuse = nn.Linear(2 * hidden, hidden)

    def forward(
        self, question: torch.Tensor, vision: torch.Tensor, text: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(fused embedding, the gate: how much vision knowledge was used)."""
        if self.adaptive:
            gate = torch.sigmoid(self.gate(torch.cat([question, vision, text], dim=-1)))
        else:
            gate = torch.full_like(vision, 0.5)
        knowledge = gate * vision + (1 - gate) * text
        return torch.tanh(self.fuse(torch.cat([question, knowledge], dim=-1))), gate


class DiscriminativeDecoder(nn.Module):
    """Scores each candidate answer by the dot product of its encoding with the fused embedding."""

    def __init__(self, encoder: TextEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, fused: torch.Tensor, pool: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        unique, inverse = candidates.unique(return_inverse=True)  # each answer in the batch encoded once
        answers = self.encoder(pool[unique])
        return torch.einsum("bh,bch->bc", fused, answers[inverse])


class KBGN(nn.Module):
    def __init__(self, config: KBGNConfig) -> None:
        super().__init__()
        self.config = config
        hidden = config.hidden
        self.text_encoder = TextEncoder(config)
        self.region_projection = nn.Linear(REGION_DIM, hidden)
        self.vision_encoding = KnowledgeEncoding(RELATION_DIM, hidden)
        self.text_encoding = KnowledgeEncoding(hidden, hidden)
        self.knowledge_storage = KnowledgeStorage(hidden, config.bridges)
        self.knowledge_retrieval = KnowledgeRetrieval(hidden, config.retrieval_gate)
        self.question_projection = nn.Linear(hidden, hidden)
        self.decoder = DiscriminativeDecoder(self.text_encoder)

    def forward(self, batch: dict[str, torch.Tensor], pool: torch.Tensor) -> torch.Tensor:
        """Scores (B, candidates) for a batch of rounds (see `round_batch`)."""
        question = self.text_encoder(batch["question"])
        if self.config.question_only:
            return self.decoder(torch.tanh(self.question_projection(question)), pool, batch["candidates"])
        vision_mask, text_mask = batch["region_mask"], batch["text_mask"]
        vision = torch.relu(self.region_projection(batch["regions"])) * vision_mask.unsqueeze(-1)
        vision = self.vision_encoding(vision, relations(batch["regions"]), question, vision_mask)
        text = self.text_encoder(batch["text"]) * text_mask.unsqueeze(-1)
        text_edges = text.unsqueeze(1) * text.unsqueeze(2)
        text = self.text_encoding(text, text_edges, question, text_mask)
        vision_knowledge, text_knowledge = self.knowledge_storage(vision, vision_mask, text, text_mask, question)
        fused, _ = self.knowledge_retrieval(question, vision_knowledge, text_knowledge)
        return self.decoder(fused, pool, batch["candidates"])


def round_batch(
    tensors: dict[str, torch.Tensor], dialogs: torch.Tensor, rounds: torch.Tensor
) -> dict[str, torch.Tensor]:
    """The inputs of round `rounds[k]` of dialog `dialogs[k]`: its question and candidates, the scene's
    regions, and the text graph: the caption and the rounds before it."""
    history = tensors["history"][dialogs]  # (B, R, L)
    caption = tensors["caption"][dialogs].unsqueeze(1)
    count = history.shape[1]
    earlier = torch.arange(count).unsqueeze(0) < rounds.unsqueeze(1)
    return {
        "question": tensors["question"][dialogs, rounds],
        "candidates": tensors["candidates"][dialogs, rounds],
        "regions": tensors["regions"][dialogs],
        "region_mask": tensors["region_mask"][dialogs],
        "text": torch.cat([caption, history], dim=1),
        "text_mask": torch.cat([torch.ones(len(dialogs), 1, dtype=torch.bool), earlier], dim=1),
    }
