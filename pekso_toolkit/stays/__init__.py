"""Event log in, stays out; then what stays give: summaries, exits, flow, supervision."""
