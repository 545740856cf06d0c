"""The search: the search service and every question it answers (radio, path, passages, moments, asking),
caps, browsing, evaluation. Front ends call it; it never formats for people (app.display does)."""
