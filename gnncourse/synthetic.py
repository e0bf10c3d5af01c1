"""Synthetic graphs generated in code, with a seed: the explanation benchmarks of the
GNNExplainer paper (BA-Shapes, BA-Community, Tree-Cycles, Tree-Grid).
"""
