"""Problem categories: the taxonomy tree, keyword suggestions, the classifier, category analysis."""
