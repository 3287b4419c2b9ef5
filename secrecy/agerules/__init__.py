"""Age rules per council: the target age range, exceptions (avsteg) from it, the age
thresholds ahead at which disclosures and consents change, and the agenda's "review whether
to close" marker for a child past the council's upper limit."""
