"""One module of comparison rules per drift target, plus the rules they share."""
