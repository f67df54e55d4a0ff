"""Rewrites a learned model file (quilt-tune train) so that its trees are
one split on a named feature: log(time / analytical) is 0 below the
threshold and LEAF at or above it. Tests use it to make a model that
predicts a chosen kind of op slower, whatever the rest of the features.

usage: one-split-model.py IN.json FEATURE THRESHOLD LEAF OUT.json
"""
import json
import sys

src, feature, threshold, leaf, dst = sys.argv[1:]
model = json.load(open(src))
index = model["features"].index(feature)
booster = json.loads(model["booster"])
learner = booster["learner"]
learner["learner_model_param"]["base_score"] = "0"
trees = learner["gradient_booster"]["model"]
n = len(model["features"])
trees["gbtree_model_param"]["num_trees"] = "1"
trees["tree_info"] = [0]
# XGBoost goes left when the feature is below the split condition; a leaf
# holds its value in split_conditions.
trees["trees"] = [{
    "base_weights": [0.0, 0.0, float(leaf)],
    "categories": [], "categories_nodes": [], "categories_segments": [],
    "categories_sizes": [],
    "default_left": [1, 0, 0],
    "id": 0,
    "left_children": [1, -1, -1],
    "loss_changes": [1.0, 0.0, 0.0],
    "parents": [2147483647, 0, 0],
    "right_children": [2, -1, -1],
    "split_conditions": [float(threshold), 0.0, float(leaf)],
    "split_indices": [index, 0, 0],
    "split_type": [0, 0, 0],
    "sum_hessian": [2.0, 1.0, 1.0],
    "tree_param": {"num_deleted": "0", "num_feature": str(n),
                   "num_nodes": "3", "size_leaf_vector": "0"},
}]
model["booster"] = json.dumps(booster)
json.dump(model, open(dst, "w"))
