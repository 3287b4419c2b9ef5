"""Individual plans (individuell plan / handlingsplan): goals, measures, views, versions agreed
at meetings and locked with their minutes, evaluations, the family's plan document and the
projector's form of a plan."""
