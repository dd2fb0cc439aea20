"""What the functions report to CloudWatch: metric names and dimensions (emitted as EMF by powertools)."""
