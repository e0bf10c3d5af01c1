"""The XGNN explanations of the book: one setting per dataset, the classes' names, and the
generator's hyper-parameters, each with the reason for its value.

    >>> SETTINGS["MUTAG"].max_nodes, SETTINGS["Is_Acyclic"].classes[0]
    (9, 'cyclic')
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence

from torch import nn

from ..data import MUTAG_VALENCY
from ..synthetic import IS_ACYCLIC_CLASSES
from ..xgnn import XGNN, Featurizer

__all__ = ["XGNNSetting", "SETTINGS", "MUTAG_CLASSES"]

#: Label names of MUTAG: ``y == 1`` is a mutagenic molecule.
MUTAG_CLASSES = ["non-mutagenic", "mutagenic"]


@dataclass(frozen=True)
class XGNNSetting:
    """How XGNN explains one classifier: the generator's graph budget, its training, the rules."""

    name: str
    classes: Sequence[str]
    num_node_types: int  # the candidate set: one node per type the generator may add
    max_nodes: int
    max_steps: int
    batch_size: int  # episodes per policy-gradient iteration
    valency: Optional[Sequence[int]] = None  # graph rule: most bonds per node type (None: no rule)
    # the generator's training; these values were set once for the chapter, not tuned
    # (the chapter shows the reward curves they give)
    iterations: int = 30  # policy-gradient iterations
    rollouts: int = 4  # Monte-Carlo rollouts per step, for the intermediate reward
    lambda_1: float = 1.0  # weight of the rollout reward against the final graph's reward
    lambda_2: float = 2.0  # penalty of a step that breaks a graph rule
    lr: float = 0.02  # Adam on the policy
    why: str = ""  # why the graph budget is what it is

    def explainer(self, classifier: nn.Module, featurize: Featurizer, target_class: int, seed: int) -> XGNN:
        """An untrained :class:`~gnncourse.xgnn.XGNN` for ``target_class`` of ``classifier``."""
        return XGNN(classifier, target_class=target_class, num_node_types=self.num_node_types,
                    featurize=featurize, max_nodes=self.max_nodes, max_steps=self.max_steps,
                    valency=self.valency, start_type=0, rollouts=self.rollouts, lambda_1=self.lambda_1,
                    lambda_2=self.lambda_2, lr=self.lr, seed=seed)


SETTINGS: Dict[str, XGNNSetting] = {s.name: s for s in [
    XGNNSetting("Is_Acyclic", IS_ACYCLIC_CLASSES, num_node_types=1, max_nodes=6, max_steps=5, batch_size=8,
                why="6 nodes: enough for a cycle and a tree; one node type (the classifier sees degrees)"),
    XGNNSetting("MUTAG", MUTAG_CLASSES, num_node_types=7, max_nodes=9, max_steps=9, batch_size=16,
                valency=MUTAG_VALENCY,
                why="9 atoms: room for a ring and a nitro group; the 7 atom types and their valencies"),
]}
