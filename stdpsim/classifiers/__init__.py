"""Supervised learners on one harness: the same data split, the same model format
(:class:`stdpsim.rate_model.RateModel`, a stack of sizes (n_visible, hidden..., n_classes)
whose top layer is the label layer), the same training loop and error rates.

``targetprop``  (:mod:`.targetprop`) Algorithm 2 with the label layer clamped to the label:
                INFERENCE carries the target down through the decoders, and every layer
                learns its local problem as in the unsupervised model.
``backprop``    (:mod:`.backprop`) the same encoders trained end to end on the softmax
                cross-entropy: the ceiling for these data.
``dtp``         (:mod:`.dtp`) difference target propagation (Lee et al. 2015) on the same
                stack.
``krotov_hopfield``  (:mod:`.krotov_hopfield`) competing hidden units learned without labels
                (Krotov & Hopfield 2019), then a supervised top layer.
"""

from .config import LEARNERS, PREDICTIONS, ClassifyConfig, predictions

__all__ = ["LEARNERS", "PREDICTIONS", "ClassifyConfig", "predictions"]
