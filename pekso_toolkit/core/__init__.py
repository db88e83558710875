"""Core vocabulary shared by every layer: errors, languages, the stage model.

Nothing here imports from any other part of the package.
"""
