"""What Rasa's endpoints load at run time (tracker store, lock store configuration).

Kept apart from the NLU components in `addons/*.py`: those are part of the trained model
(scripts/train.sh hashes them), these are not, so changing them never forces a retrain.
"""
