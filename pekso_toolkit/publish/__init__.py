"""What may leave the toolkit: disclosure control of tables and pseudonyms of identifiers."""
